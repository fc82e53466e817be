//! The pack's charts: grouped bar charts drawn as inline SVG with the `svg` crate (text is
//! escaped by it), each named by a `<title>` for screen readers; the page prints the same
//! numbers in a table beside each chart.

use svg::node::element::{Group, Line, Rectangle, Text, Title};
use svg::Document;

/// One series of bars: its name, a value per label, and its CSS class (the page's print-safe
/// colours and patterns).
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
    pub class: &'a str,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 28.0;

/// A grouped bar chart of `series` over `labels`, with each bar's value written above it.
pub fn bars(id: &str, title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - 10.0) / labels.len().max(1) as f64;
    let bar = (slot * 0.8) / series.len().max(1) as f64;
    let title_id = format!("{id}-title");
    let mut chart = Document::new()
        .set("viewBox", (0, 0, WIDTH, HEIGHT))
        .set("width", "100%")
        .set("role", "img")
        .set("aria-labelledby", title_id.as_str())
        .set("class", "chart")
        .add(Title::new(title).set("id", title_id.as_str()))
        .add(
            Line::new()
                .set("x1", LEFT)
                .set("y1", HEIGHT - BOTTOM)
                .set("x2", WIDTH - 5.0)
                .set("y2", HEIGHT - BOTTOM)
                .set("class", "axis"),
        );
    for (i, label) in labels.iter().enumerate() {
        let x0 = LEFT + i as f64 * slot + slot * 0.1;
        let mut group = Group::new();
        for (j, s) in series.iter().enumerate() {
            let value = s.values.get(i).copied().unwrap_or(0.0);
            let height = plot_height * value / highest;
            let x = x0 + j as f64 * bar;
            let y = HEIGHT - BOTTOM - height;
            group = group
                .add(
                    Rectangle::new()
                        .set("x", x)
                        .set("y", y)
                        .set("width", (bar - 2.0).max(1.0))
                        .set("height", height)
                        .set("class", s.class)
                        .add(Title::new(format!(
                            "{}, {label}: {}",
                            s.name,
                            number(value)
                        ))),
                )
                .add(
                    Text::new(number(value))
                        .set("x", x + bar / 2.0 - 1.0)
                        .set("y", y - 4.0)
                        .set("text-anchor", "middle")
                        .set("class", "value"),
                );
        }
        chart = chart.add(group).add(
            Text::new(label.as_str())
                .set("x", x0 + slot * 0.4)
                .set("y", HEIGHT - BOTTOM + 16.0)
                .set("text-anchor", "middle")
                .set("class", "label"),
        );
    }
    // The legend, above the plot.
    let mut x = LEFT;
    for s in series {
        chart = chart
            .add(
                Rectangle::new()
                    .set("x", x)
                    .set("y", 6)
                    .set("width", 12)
                    .set("height", 12)
                    .set("class", s.class),
            )
            .add(
                Text::new(s.name)
                    .set("x", x + 16.0)
                    .set("y", 16)
                    .set("class", "label"),
            );
        x += 24.0 + 7.0 * s.name.len() as f64;
    }
    chart.to_string()
}

/// A number as the chart writes it: whole numbers without decimals.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_itself_and_escapes_its_text() {
        let chart = bars(
            "raised",
            "Concerns <raised> & resolved",
            &["Oct".to_owned(), "Nov".to_owned()],
            &[Series {
                name: "Raised",
                values: vec![3.0, 4.5],
                class: "series-a",
            }],
        );
        assert!(chart.starts_with("<svg"));
        assert!(chart.contains(r#"role="img""#));
        assert!(chart.contains(r#"aria-labelledby="raised-title""#));
        assert!(chart.contains("Concerns &lt;raised&gt; &amp; resolved"));
        assert!(
            chart.contains("Raised, Nov: 4.5"),
            "each bar names its value"
        );
        assert!(chart.contains("Raised, Oct: 3<") || chart.contains("Raised, Oct: 3\n"));
        assert_eq!(
            chart.matches("<rect").count(),
            3,
            "two bars and a legend key"
        );
    }
}
