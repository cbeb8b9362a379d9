//! The PDF edition of a report, typeset inside the process by the Typst
//! compiler: no browser, no external program, no font on the machine.
//!
//! The Typst template (`report-templates/report.typ`, overridable like every
//! template) reads the same report context as the HTML, handed to it as the
//! virtual file `data.json`; the charts are the same SVG. The fonts ship in
//! the binary (Noto Sans TC, SIL OFL 1.1; see `report-templates/fonts/`),
//! plus any `fonts/*.ttf|otf` of the user's templates folder. Every
//! character of the report is checked against those fonts before rendering,
//! so a character no font can show is an error naming it, never an empty box.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use crate::assets;
use crate::error::{Error, Result};

/// The fonts built into opskpi.
static BUILTIN_FONTS: &[&[u8]] = &[
    include_bytes!("../../report-templates/fonts/NotoSansTC-Regular.ttf"),
    include_bytes!("../../report-templates/fonts/NotoSansTC-Bold.ttf"),
];

static BUILTIN: LazyLock<Vec<Font>> = LazyLock::new(|| {
    BUILTIN_FONTS
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect()
});

/// The Typst standard library, built once.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// Paper size of the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    #[default]
    A4,
    A3,
    Letter,
    Legal,
}

impl Paper {
    /// The paper's name on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::A3 => "a3",
            Paper::Letter => "letter",
            Paper::Legal => "legal",
        }
    }

    /// Typst's name for the paper.
    fn typst(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::A3 => "a3",
            Paper::Letter => "us-letter",
            Paper::Legal => "us-legal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    #[default]
    Portrait,
    Landscape,
}

impl Orientation {
    /// The orientation's name on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Orientation::Portrait => "portrait",
            Orientation::Landscape => "landscape",
        }
    }
}

/// How the PDF is laid out.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PdfOptions {
    pub paper: Paper,
    pub orientation: Orientation,
}

/// What the template reads besides the report: the page set-up and the
/// document's metadata.
#[derive(Serialize)]
struct Page {
    paper: &'static str,
    landscape: bool,
}

#[derive(Serialize)]
struct Data<'a, T: Serialize> {
    page: Page,
    report: &'a T,
}

/// Renders the Typst template `main` with `report` as its data into a PDF
/// whose creation date is `as_of` (so the same inputs give the same bytes).
pub fn render(
    main: &str,
    report: &impl Serialize,
    as_of: NaiveDate,
    options: PdfOptions,
    overrides: Option<&Path>,
) -> Result<Vec<u8>> {
    let data = Data {
        page: Page {
            paper: options.paper.typst(),
            landscape: options.orientation == Orientation::Landscape,
        },
        report,
    };
    let json = serde_json::to_vec(&data).map_err(|e| Error::Internal(e.to_string()))?;
    let fonts = fonts(overrides)?;
    check_coverage(
        &serde_json::from_slice(&json).expect("just written"),
        &fonts,
    )?;
    let world = ReportWorld::new(main, json, fonts, as_of, overrides)?;
    let warned = typst::compile::<PagedDocument>(&world);
    let document = warned
        .output
        .map_err(|errors| diagnostic_error(&world, &errors))?;
    check_glyphs(&document)?;
    let date = Datetime::from_ymd(as_of.year(), as_of.month() as u8, as_of.day() as u8)
        .ok_or_else(|| Error::Internal(format!("the as-of date {as_of} is out of range")))?;
    let pdf_options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!("opskpi {main}")),
        timestamp: Some(typst_pdf::Timestamp::new_utc(date)),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &pdf_options).map_err(|errors| diagnostic_error(&world, &errors))
}

/// The built-in fonts, after the user's own (`fonts/` of the templates folder).
fn fonts(overrides: Option<&Path>) -> Result<Vec<Font>> {
    let mut fonts = Vec::new();
    if let Some(folder) = overrides.map(|f| f.join("fonts")).filter(|f| f.is_dir()) {
        let mut paths: Vec<PathBuf> = fs_err::read_dir(&folder)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "ttf" | "otf" | "ttc" | "otc"
                    )
                })
            })
            .collect();
        paths.sort();
        for path in paths {
            let data = fs_err::read(&path)?;
            let before = fonts.len();
            fonts.extend(Font::iter(Bytes::new(data)));
            if fonts.len() == before {
                return Err(Error::config_hint(
                    format!("`{}` is not a font Typst can read", path.display()),
                    "put TrueType or OpenType files (.ttf, .otf, .ttc) in the templates' fonts folder",
                ));
            }
        }
    }
    fonts.extend(BUILTIN.iter().cloned());
    Ok(fonts)
}

/// Fails on the first character of the report's text that no font has,
/// naming it and the text it is in.
fn check_coverage(data: &serde_json::Value, fonts: &[Font]) -> Result<()> {
    let mut checked: HashMap<char, bool> = HashMap::new();
    let mut strings = Vec::new();
    collect_strings(data, &mut strings);
    for text in strings {
        // Charts are SVG: only the text of their <text> elements is shown.
        if text.starts_with("<svg") {
            for shown in svg_texts(text) {
                covered(&shown, fonts, &mut checked)?;
            }
        } else {
            covered(text, fonts, &mut checked)?;
        }
    }
    Ok(())
}

fn covered(text: &str, fonts: &[Font], checked: &mut HashMap<char, bool>) -> Result<()> {
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FE0F}')
        {
            continue;
        }
        let ok = *checked.entry(c).or_insert_with(|| {
            fonts
                .iter()
                .any(|font| font.info().coverage.contains(c as u32))
        });
        if !ok {
            return Err(Error::config_hint(
                format!(
                    "the PDF cannot show the character `{c}` (U+{:04X}) in \"{}\": no font of the report has it",
                    c as u32,
                    text.chars().take(80).collect::<String>()
                ),
                "put a font that has it (.ttf or .otf) in the `fonts` folder of your templates folder (--templates), or change the text in the data",
            ));
        }
    }
    Ok(())
}

fn collect_strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => out.push(text),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// The text content of an SVG's `<text>` elements, entities decoded.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</text>") else {
            break;
        };
        if open_end < close {
            let inner = &rest[open_end + 1..close];
            texts.push(
                inner
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&"),
            );
        }
        rest = &rest[close + 7..];
    }
    texts
}

/// The second net: a glyph 0 (".notdef", the empty box) anywhere in the
/// laid-out pages is an error naming the character.
fn check_glyphs(document: &PagedDocument) -> Result<()> {
    fn walk(frame: &typst::layout::Frame) -> Option<String> {
        for (_, item) in frame.items() {
            match item {
                typst::layout::FrameItem::Group(group) => {
                    if let Some(found) = walk(&group.frame) {
                        return Some(found);
                    }
                }
                typst::layout::FrameItem::Text(text) => {
                    for glyph in &text.glyphs {
                        if glyph.id == 0 {
                            let shown = text.text.get(glyph.range()).unwrap_or("?");
                            return Some(format!("{shown}` in \"{}\"", text.text));
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }
    for (number, page) in document.pages().iter().enumerate() {
        if let Some(found) = walk(&page.frame) {
            return Err(Error::config_hint(
                format!("page {} of the PDF would show an empty box for `{found}", number + 1),
                "put a font that has the character in the `fonts` folder of your templates folder (--templates)",
            ));
        }
    }
    Ok(())
}

fn diagnostic_error(world: &ReportWorld, errors: &[SourceDiagnostic]) -> Error {
    let error = errors
        .iter()
        .find(|e| e.severity == Severity::Error)
        .or(errors.first());
    let Some(error) = error else {
        return Error::Internal("Typst failed without saying why".into());
    };
    let mut name = "report.typ".to_string();
    let mut line = None;
    if let Some(id) = error.span.id() {
        name = id.get().vpath().get_without_slash().to_string();
        if let (Some(range), Ok(source)) = (world.range(error.span), world.source(id)) {
            line = source.lines().byte_to_line(range.start).map(|l| l + 1);
        }
    }
    let mut message = error.message.to_string();
    for hint in &error.hints {
        message.push_str(&format!(" (hint: {})", hint.v));
    }
    Error::Template {
        name,
        line,
        message,
    }
}

/// The files a report's Typst sees: its templates and the data.
struct ReportWorld {
    main: FileId,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    data: Bytes,
    today: Datetime,
    overrides: Option<PathBuf>,
}

fn file_id(path: &str) -> Result<FileId> {
    let vpath = VirtualPath::new(path)
        .map_err(|e| Error::Internal(format!("template path `{path}`: {e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl ReportWorld {
    fn new(
        main: &str,
        data: Vec<u8>,
        fonts: Vec<Font>,
        today: NaiveDate,
        overrides: Option<&Path>,
    ) -> Result<ReportWorld> {
        Ok(ReportWorld {
            main: file_id(main)?,
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            data: Bytes::new(data),
            today: Datetime::from_ymd(today.year(), today.month() as u8, today.day() as u8)
                .ok_or_else(|| Error::Internal(format!("date {today} out of range")))?,
            overrides: overrides.map(Path::to_path_buf),
        })
    }

    fn name(id: FileId) -> String {
        id.get().vpath().get_without_slash().to_string()
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        let name = Self::name(id);
        match assets::template(&name, self.overrides.as_deref()) {
            Ok(Some(text)) => Ok(Source::new(id, text)),
            Ok(None) => Err(FileError::NotFound(PathBuf::from(name))),
            Err(error) => Err(FileError::from_io(error, Path::new(&name))),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        let name = Self::name(id);
        if name == "data.json" {
            return Ok(self.data.clone());
        }
        self.source(id)
            .map(|source| Bytes::from_string(source.text().to_string()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_text_is_read_with_entities_decoded() {
        let svg = r#"<svg><text x="1">Beds &amp; mattresses</text><g><text y="2" font-size="9">十月</text></g></svg>"#;
        assert_eq!(svg_texts(svg), vec!["Beds & mattresses", "十月"]);
    }

    #[test]
    fn a_character_no_font_has_is_named() {
        // U+1F600 (an emoji) is in no built-in font.
        let data = serde_json::json!({"rows": [{"label": "Store 😀 Taipei"}]});
        let error = check_coverage(&data, &BUILTIN).unwrap_err().to_string();
        assert!(error.contains("U+1F600"), "{error}");
        assert!(error.contains("Store 😀 Taipei"), "{error}");
        let fine = serde_json::json!({"rows": ["臺北市信義區門市", "Øresund €12", "１２３"]});
        check_coverage(&fine, &BUILTIN).unwrap();
    }
}
