//! Charts as SVG text, drawn with plotters: sparklines for the tiles, line
//! charts for trends, horizontal bars for breakdowns.
//!
//! The SVG carries no font file and no external reference: text is set in
//! the reader's sans-serif, so the report stays one offline file. plotters
//! escapes the text it draws, so names from the data cannot inject markup.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const INK: RGBColor = RGBColor(51, 51, 51);
const GRID: RGBColor = RGBColor(225, 225, 225);
pub const THIS_YEAR: RGBColor = RGBColor(31, 95, 139);
pub const LAST_YEAR: RGBColor = RGBColor(170, 170, 170);
pub const ACCENT: RGBColor = RGBColor(214, 120, 40);
const FONT: &str = "sans-serif";

/// One line of a line chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: RGBColor,
    pub values: Vec<Option<f64>>,
}

fn finish(svg: String) -> String {
    // Let the chart scale down with the page (plotters writes a fixed size).
    svg.replacen("<svg ", "<svg class=\"chart\" role=\"img\" ", 1)
}

/// A small line of the last values, the latest point marked.
pub fn sparkline(values: &[Option<f64>], color: RGBColor) -> String {
    let (width, height) = (132u32, 36u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let known: Vec<f64> = values.iter().flatten().copied().collect();
        if known.len() >= 2 {
            let (lo, hi) = bounds(&known, false);
            let x_max = (values.len().max(2) - 1) as f64;
            let mut chart = ChartBuilder::on(&root)
                .margin(4)
                .build_cartesian_2d(0f64..x_max, lo..hi)
                .expect("sparkline axes");
            for run in runs(values) {
                chart
                    .draw_series(LineSeries::new(run, color.stroke_width(2)))
                    .expect("sparkline");
            }
            if let Some((i, last)) = values
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, v)| v.map(|v| (i, v)))
            {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (i as f64, last),
                        3,
                        color.filled(),
                    )))
                    .expect("dot");
            }
        }
        root.present().expect("sparkline svg");
    }
    finish(svg)
}

/// Lines over labelled points (months), with a legend.
pub fn line_chart(
    labels: &[String],
    series: &[Series],
    format_y: &dyn Fn(f64) -> String,
) -> String {
    lines_and_band(labels, series, None, format_y)
}

/// A shaded range between two lines from point `from` on (a prediction interval).
pub struct Band<'a> {
    pub name: &'a str,
    pub color: RGBColor,
    pub from: usize,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// Actuals, then a forecast continuing from the last actual with its
/// interval shaded: `points` are (forecast, low, high) for the labels after
/// the actuals.
#[allow(clippy::too_many_arguments)]
pub fn forecast_chart(
    labels: &[String],
    actuals: &[Option<f64>],
    points: &[(f64, f64, f64)],
    actual_name: &str,
    forecast_name: &str,
    interval_name: &str,
    format_y: &dyn Fn(f64) -> String,
) -> String {
    let n = actuals.len();
    let last = actuals.last().copied().flatten();
    let mut actual = actuals.to_vec();
    actual.resize(n + points.len(), None);
    // The forecast line starts at the last actual so the two join.
    let mut forecast = vec![None; n.saturating_sub(1)];
    forecast.push(last);
    forecast.extend(points.iter().map(|p| Some(p.0)));
    let start = last.unwrap_or(points.first().map_or(0.0, |p| p.0));
    let band = Band {
        name: interval_name,
        color: ACCENT,
        from: n.saturating_sub(1),
        low: std::iter::once(start)
            .chain(points.iter().map(|p| p.1))
            .collect(),
        high: std::iter::once(start)
            .chain(points.iter().map(|p| p.2))
            .collect(),
    };
    lines_and_band(
        labels,
        &[
            Series {
                name: actual_name,
                color: THIS_YEAR,
                values: actual,
            },
            Series {
                name: forecast_name,
                color: ACCENT,
                values: forecast,
            },
        ],
        Some(&band),
        format_y,
    )
}

fn lines_and_band(
    labels: &[String],
    series: &[Series],
    band: Option<&Band>,
    format_y: &dyn Fn(f64) -> String,
) -> String {
    // No point at all: no chart (the report says so in a sentence, rather
    // than drawing an empty frame with axes).
    if series.iter().all(|s| s.values.iter().all(Option::is_none)) && band.is_none() {
        return String::new();
    }
    let (width, height) = (1000u32, 300u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut known: Vec<f64> = series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .collect();
        if let Some(band) = band {
            known.extend(band.low.iter().chain(&band.high).copied());
        }
        let (lo, hi) = bounds(&known, true);
        let x_max = (labels.len().max(2) - 1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_top(36)
            .x_label_area_size(32)
            .y_label_area_size(76)
            .build_cartesian_2d(-0.3f64..x_max + 0.3, lo..hi)
            .expect("line chart axes");
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(GRID)
            .x_labels(labels.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                // At most 14 labels fit: past that, every second or third.
                let step = labels.len().div_ceil(14).max(1) as f64;
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i % step) == 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_labels(5)
            .y_label_formatter(&|y| format_y(*y))
            .label_style((FONT, 15).into_font().color(&INK))
            .draw()
            .expect("line chart mesh");
        if let Some(band) = band {
            let x = |i: usize| (band.from + i) as f64;
            let mut outline: Vec<(f64, f64)> = band
                .high
                .iter()
                .enumerate()
                .map(|(i, v)| (x(i), *v))
                .collect();
            outline.extend(band.low.iter().enumerate().rev().map(|(i, v)| (x(i), *v)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    band.color.mix(0.2).filled(),
                )))
                .expect("band");
        }
        for line in series {
            for run in runs(&line.values) {
                chart
                    .draw_series(LineSeries::new(run, line.color.stroke_width(2)))
                    .expect("line");
            }
            let points = line
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64, v)));
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, line.color.filled())))
                .expect("points");
        }
        // Legend, top left, drawn by hand to keep it small.
        let mut x = 80;
        for line in series {
            root.draw(&Rectangle::new([(x, 8), (x + 16, 20)], line.color.filled()))
                .expect("legend");
            root.draw(&Text::new(
                line.name.to_string(),
                (x + 20, 7),
                (FONT, 15).into_font().color(&INK),
            ))
            .expect("legend text");
            x += 34 + text_width(line.name);
        }
        if let Some(band) = band {
            root.draw(&Rectangle::new(
                [(x, 8), (x + 16, 20)],
                band.color.mix(0.2).filled(),
            ))
            .expect("legend");
            root.draw(&Text::new(
                band.name.to_string(),
                (x + 20, 7),
                (FONT, 15).into_font().color(&INK),
            ))
            .expect("legend text");
        }
        root.present().expect("line chart svg");
    }
    finish(svg)
}

/// Horizontal bars, one per labelled value, the value written at the end.
pub fn bar_chart(
    rows: &[(String, Option<f64>)],
    format_value: &dyn Fn(f64) -> String,
    missing: &str,
) -> String {
    if rows.iter().all(|(_, value)| value.is_none()) {
        return String::new();
    }
    let bar = 30u32;
    let (width, height) = (1000u32, 24 + bar * rows.len().max(1) as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let known: Vec<f64> = rows.iter().filter_map(|(_, v)| *v).collect();
        let max = known.iter().copied().fold(0f64, f64::max);
        let min = known.iter().copied().fold(0f64, f64::min);
        let span = if max - min > 0.0 { max - min } else { 1.0 };
        let (left, right) = (190i32, width as i32 - 110);
        let zero_x = left + ((0.0 - min) / span * f64::from(right - left)) as i32;
        let label_style = (FONT, 15).into_font().color(&INK);
        for (i, (label, value)) in rows.iter().enumerate() {
            let top = 12 + (i as u32 * bar) as i32;
            let middle = top + (bar as i32 - 6) / 2;
            let name: String = label.chars().take(24).collect();
            root.draw(&Text::new(
                name,
                (left - 8, middle),
                label_style.clone().pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .expect("bar label");
            let Some(value) = value else {
                root.draw(&Text::new(
                    missing.to_string(),
                    (zero_x + 6, middle),
                    label_style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .expect("bar n/a");
                continue;
            };
            let end = left + ((value - min) / span * f64::from(right - left)) as i32;
            let (x0, x1) = if end >= zero_x {
                (zero_x, end)
            } else {
                (end, zero_x)
            };
            let color = if *value < 0.0 { ACCENT } else { THIS_YEAR };
            root.draw(&Rectangle::new(
                [(x0, top), (x1.max(x0 + 1), top + bar as i32 - 6)],
                color.filled(),
            ))
            .expect("bar");
            root.draw(&Text::new(
                format_value(*value),
                (x1.max(x0 + 1) + 6, middle),
                label_style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .expect("bar value");
        }
        root.present().expect("bar chart svg");
    }
    finish(svg)
}

/// Roughly how wide a legend's text is: CJK characters are twice a Latin letter.
fn text_width(text: &str) -> i32 {
    text.chars()
        .map(|c| if c.is_ascii() { 9 } else { 16 })
        .sum()
}

/// The y range for the values, from zero when asked, with some headroom.
fn bounds(values: &[f64], from_zero: bool) -> (f64, f64) {
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        hi.abs().max(1.0) * 0.1
    };
    if !(from_zero && lo == 0.0) {
        lo -= pad;
    }
    hi += pad;
    (lo, hi)
}

/// The unbroken stretches of a series with gaps.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => runs.last_mut().expect("not empty").push((i as f64, *v)),
            None if !runs.last().expect("not empty").is_empty() => runs.push(Vec::new()),
            None => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_a_series() {
        let values = [Some(1.0), None, Some(2.0), Some(3.0), None];
        assert_eq!(
            runs(&values),
            vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]
        );
    }

    #[test]
    fn hostile_labels_are_escaped_in_svg() {
        let svg = bar_chart(
            &[("<script>alert(1)</script>".into(), Some(3.0))],
            &|v| v.to_string(),
            "n/a",
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
