//! Charts of the register's figures, drawn on the server as SVG: no script, nothing loaded
//! from elsewhere. Each chart is a `<figure>` whose SVG is an image with a text alternative
//! (`role="img"`, `aria-labelledby` its `<title>` and the caption), followed by the same
//! figures as a table, which screen readers and people who prefer numbers read instead.
//!
//! Bars are horizontal, so that long labels (categories in three languages) stay readable on
//! a phone; in Arabic the chart is mirrored (labels on the right, bars growing leftwards).
//! Colours come from the stylesheet (`.chart .bar`): the CSP forbids inline styles.

use std::fmt::Write as _;

use sijil_projector::{DeadlineCounts, Stats};

use super::{esc, labels, Lang};

/// Width of the drawing, in SVG units (it scales to its box: about 1:1 on a desktop, 0.7:1
/// on a phone, so text stays legible).
const WIDTH: u32 = 400;
/// Room for the value after a bar.
const VALUE_WIDTH: u32 = 56;
/// Each row: its label on a line of its own, then the bar (long labels in three languages
/// need the whole width).
const ROW: u32 = 44;
const LABEL_HEIGHT: u32 = 18;
const BAR: u32 = 16;

/// One chart: an id (for its SVG's title), its caption, and `(label, value)` rows.
#[derive(Debug)]
struct Chart<'a> {
    id: &'a str,
    caption: String,
    rows: Vec<(String, u64)>,
}

fn by_category(lang: Lang, stats: &Stats) -> Chart<'static> {
    Chart {
        id: "chart-category",
        caption: lang.plain("chart-by-category"),
        rows: stats
            .by_category
            .iter()
            .map(|(c, n)| (unescape(&labels::category(lang, *c)), *n as u64))
            .collect(),
    }
}

fn by_status(lang: Lang, stats: &Stats) -> Chart<'static> {
    Chart {
        id: "chart-status",
        caption: lang.plain("chart-by-status"),
        rows: stats
            .by_status
            .iter()
            .map(|(s, n)| (unescape(&labels::status(lang, *s)), *n as u64))
            .collect(),
    }
}

fn by_year(lang: Lang, stats: &Stats) -> Chart<'static> {
    Chart {
        id: "chart-year",
        caption: lang.plain("chart-by-year"),
        rows: stats
            .by_year
            .iter()
            .map(|(y, n)| (y.to_string(), *n as u64))
            .collect(),
    }
}

fn by_sanction(lang: Lang, stats: &Stats) -> Chart<'static> {
    Chart {
        id: "chart-sanction",
        caption: lang.plain("chart-by-sanction"),
        rows: stats
            .sanctions_by_kind
            .iter()
            .map(|(k, n)| (unescape(&labels::sanction_kind(lang, k)), *n as u64))
            .collect(),
    }
}

fn deadlines(lang: Lang, d: DeadlineCounts) -> Chart<'static> {
    Chart {
        id: "chart-deadlines",
        caption: lang.plain("chart-deadlines"),
        rows: vec![
            (lang.plain("deadline-kept"), d.kept),
            (lang.plain("deadline-missed"), d.missed),
            (lang.plain("deadline-pending"), d.pending),
        ],
    }
}

/// The home page's two charts: cases by category and by status.
pub fn home_charts(lang: Lang, stats: &Stats) -> String {
    if stats.cases == 0 {
        return String::new();
    }
    let mut html = String::from(r#"<div class="charts">"#);
    html.push_str(&figure(lang, &by_category(lang, stats)));
    html.push_str(&figure(lang, &by_status(lang, stats)));
    html.push_str("</div>\n");
    html
}

/// Every chart, for the statistics page.
pub fn all_charts(lang: Lang, stats: &Stats) -> String {
    let mut html = String::from(r#"<div class="charts">"#);
    for chart in [
        by_category(lang, stats),
        by_status(lang, stats),
        by_year(lang, stats),
        deadlines(lang, stats.deadlines),
        by_sanction(lang, stats),
    ] {
        html.push_str(&figure(lang, &chart));
    }
    html.push_str("</div>\n");
    html
}

/// Labels come escaped from the message files; the chart escapes what it draws, once.
pub fn unescape(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A chart as a `<figure>`: the SVG, its caption, and its figures as a table.
fn figure(lang: Lang, chart: &Chart<'_>) -> String {
    let rtl = lang == Lang::Ar;
    let max = chart.rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let rows = u32::try_from(chart.rows.len()).unwrap_or(u32::MAX);
    let height = rows.saturating_mul(ROW) + 4;
    let total: u64 = chart.rows.iter().map(|r| r.1).sum();
    let summary = lang.ta(
        "chart-summary",
        &[
            ("n", super::Arg::N(total)),
            ("name", super::Arg::S(&chart.caption)),
        ],
    );
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" direction="{dir}"><title id="{id}-title">{caption}</title><desc id="{id}-desc">{summary}</desc>"#,
        id = chart.id,
        dir = lang.dir(),
        caption = esc(&chart.caption),
    );
    let bar_space = WIDTH - VALUE_WIDTH;
    for (i, (label, value)) in chart.rows.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let top = i * ROW + 4;
        let label_y = top + LABEL_HEIGHT - 4;
        let bar_y = top + LABEL_HEIGHT + 2;
        // Proportional, and at least 2 units for a non-zero value so it shows.
        let len = u32::try_from(u64::from(bar_space) * value / max).unwrap_or(bar_space);
        let len = if *value > 0 { len.max(2) } else { 0 };
        let value_y = bar_y + BAR - 3;
        // Bars start at the inline start: the left, or the right in Arabic.
        let (label_x, bar_x, value_x) = if rtl {
            (WIDTH, WIDTH - len, WIDTH - len - 6)
        } else {
            (0, 0, len + 6)
        };
        let _ = write!(
            svg,
            r#"<text class="label" x="{label_x}" y="{label_y}">{label}</text><rect class="bar" x="{bar_x}" y="{bar_y}" width="{len}" height="{BAR}"></rect><text class="value" x="{value_x}" y="{value_y}">{value}</text>"#,
            label = esc(label),
            value = lang.number(*value),
        );
    }
    svg.push_str("</svg>");
    let mut table = format!(
        r#"<details><summary>{}</summary><table class="figures"><thead><tr><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        lang.t("chart-show-figures"),
        esc(&chart.caption),
        lang.t("chart-count"),
    );
    for (label, value) in &chart.rows {
        let _ = write!(
            table,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(label),
            lang.number(*value)
        );
    }
    table.push_str("</tbody></table></details>");
    format!(
        "<figure class=\"chart\">\n<figcaption>{}</figcaption>\n{svg}\n{table}\n</figure>\n",
        esc(&chart.caption)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart<'static> {
        Chart {
            id: "t",
            caption: "Cases <by> kind".into(),
            rows: vec![("A & B".into(), 10), ("C".into(), 5), ("D".into(), 0)],
        }
    }

    #[test]
    fn bars_are_proportional_and_mirrored_in_arabic() {
        let ltr = figure(Lang::En, &chart());
        assert!(ltr.contains(r#"role="img""#));
        assert!(ltr.contains("<title id=\"t-title\">Cases &lt;by&gt; kind</title>"));
        let bar_space = WIDTH - VALUE_WIDTH;
        assert!(ltr.contains(&format!(
            r#"<rect class="bar" x="0" y="24" width="{bar_space}""#
        )));
        assert!(ltr.contains(&format!(r#"width="{}""#, bar_space / 2)));
        assert!(ltr.contains(r#"width="0""#), "a zero is no bar");
        assert!(ltr.contains("<th scope=\"row\">A &amp; B</th><td>10</td>"));
        let rtl = figure(Lang::Ar, &chart());
        assert!(rtl.contains(r#"direction="rtl""#));
        assert!(rtl.contains(&format!(
            r#"<rect class="bar" x="{}" y="24" width="{bar_space}""#,
            WIDTH - bar_space
        )));
        assert!(rtl.contains(&format!(
            r#"<rect class="bar" x="{}" y="68" width="{}""#,
            WIDTH - bar_space / 2,
            bar_space / 2
        )));
        assert!(rtl.contains(&format!(r#"<text class="label" x="{WIDTH}" y="18">"#)));
    }
}
