"""Makes the two font files opskpi embeds from Noto Sans TC 2.004 (SIL OFL 1.1).

Source: the static TTFs of the npm package @expo-google-fonts/noto-sans-tc
0.4.3 (`npm pack @expo-google-fonts/noto-sans-tc`). Needs fonttools
(`pip install fonttools`). Run from this folder:

    python3 subset.py package/400Regular/NotoSansTC_400Regular.ttf \
                      package/700Bold/NotoSansTC_700Bold.ttf

Regular keeps every character of Big5 and GB2312 (all of Traditional and
Simplified Chinese in everyday use, 15,441 ideographs) with Latin,
punctuation, symbols and full-width forms; Bold, used for headings, keeps
the frequent characters (Big5 level 1, GB2312 level 1). A heading character
missing from Bold falls back to Regular; one missing from both is an error
when the report is rendered, never an empty box.
"""
import subprocess
import sys

COMMON = [(0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x20A0, 0x20CF),
          (0x2100, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF),
          (0x2500, 0x257F), (0x25A0, 0x25FF), (0x3000, 0x303F), (0x3100, 0x312F),
          (0xFF00, 0xFFEF)]


def characters(tables):
    chars = set()
    for encoding, first, last in tables:
        for hi in range(first, last + 1):
            for lo in range(0x40, 0xFF):
                try:
                    text = bytes([hi, lo]).decode(encoding)
                except UnicodeDecodeError:
                    continue
                if len(text) == 1:
                    chars.add(ord(text))
    for lo, hi in COMMON:
        chars.update(range(lo, hi + 1))
    return sorted(chars)


def subset(font, chars, out):
    unicodes = ",".join("U+%04X" % c for c in chars)
    subprocess.run(["pyftsubset", font, "--unicodes=" + unicodes, "--layout-features=*",
                    "--no-hinting", "--output-file=" + out], check=True)


regular, bold = sys.argv[1], sys.argv[2]
subset(regular, characters([("big5", 0xA1, 0xF9), ("gb2312", 0xA1, 0xF7)]), "NotoSansTC-Regular.ttf")
subset(bold, characters([("big5", 0xA1, 0xC6), ("gb2312", 0xA1, 0xD7)]), "NotoSansTC-Bold.ttf")
