//! The output text and its wrapped rows, kept up to date as tokens arrive, so drawing a frame
//! never re-wraps: a token re-wraps only the last row, a resize re-wraps everything once.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputView {
    text: String,
    /// Byte ranges of `text`, one per screen row, in order.
    rows: Vec<Range<usize>>,
    width: u16,
    height: u16,
    /// First visible row.
    scroll_top: usize,
    /// While true the view sticks to the bottom as text streams in.
    follow: bool,
}

impl Default for OutputView {
    fn default() -> Self {
        Self {
            text: String::new(),
            rows: std::iter::once(0..0).collect(),
            width: 1,
            height: 1,
            scroll_top: 0,
            follow: true,
        }
    }
}

impl OutputView {
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_following(&self) -> bool {
        self.follow
    }

    pub fn scroll_top(&self) -> usize {
        self.scroll_top
    }

    pub fn total_rows(&self) -> usize {
        self.rows.len()
    }

    /// The rows on screen, as text slices.
    pub fn visible_rows(&self) -> impl Iterator<Item = &str> {
        let end = (self.scroll_top + self.height as usize).min(self.rows.len());
        self.rows[self.scroll_top.min(end)..end]
            .iter()
            .map(|range| self.text[range.clone()].trim_end_matches(['\r']))
    }

    /// The rows on screen, as byte ranges of [`OutputView::text`] (for styling parts of rows).
    pub fn visible_row_ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let end = (self.scroll_top + self.height as usize).min(self.rows.len());
        self.rows[self.scroll_top.min(end)..end].iter().cloned()
    }

    /// Scrolls so the row holding byte `at` is on screen (stops following when that moves up).
    pub fn reveal(&mut self, at: usize) {
        let row = self
            .rows
            .partition_point(|r| r.end <= at)
            .min(self.rows.len().saturating_sub(1));
        let height = self.height as usize;
        if row < self.scroll_top {
            self.scroll_top = row;
        } else if row >= self.scroll_top + height {
            self.scroll_top = row + 1 - height;
        }
        self.clamp_scroll();
        self.follow = self.scroll_top >= self.max_top();
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
        self.rows.push(0..0);
        self.scroll_top = 0;
        self.follow = true;
    }

    pub fn set_text(&mut self, text: &str) {
        self.clear();
        self.push(text);
    }

    /// Appends streamed text, re-wrapping from the start of the last row only.
    pub fn push(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        let from = self.rows.pop().map(|r| r.start).unwrap_or(0);
        self.text.push_str(piece);
        wrap_into(&self.text, from, self.width, &mut self.rows);
        self.stick_to_bottom();
    }

    /// The pane's inner size; re-wraps everything when the width changed.
    pub fn resize(&mut self, width: u16, height: u16) {
        let width = width.max(1);
        let height = height.max(1);
        if width != self.width {
            self.width = width;
            self.rows.clear();
            wrap_into(&self.text, 0, width, &mut self.rows);
        }
        self.height = height;
        self.clamp_scroll();
        self.stick_to_bottom();
    }

    fn max_top(&self) -> usize {
        self.rows.len().saturating_sub(self.height as usize)
    }

    fn clamp_scroll(&mut self) {
        self.scroll_top = self.scroll_top.min(self.max_top());
    }

    fn stick_to_bottom(&mut self) {
        if self.follow {
            self.scroll_top = self.max_top();
        }
    }

    /// Scrolls by `delta` rows (negative is up). Up stops following; reaching the bottom
    /// follows again.
    pub fn scroll_by(&mut self, delta: isize) {
        let target = self.scroll_top as isize + delta;
        self.scroll_top = target.clamp(0, self.max_top() as isize) as usize;
        self.follow = self.scroll_top >= self.max_top();
    }

    pub fn page(&self) -> isize {
        (self.height as isize - 1).max(1)
    }

    pub fn scroll_to_top(&mut self) {
        self.scroll_top = 0;
        self.follow = self.max_top() == 0;
    }

    pub fn scroll_to_bottom(&mut self) {
        self.follow = true;
        self.stick_to_bottom();
    }
}

/// Wraps `text[from..]` into rows of at most `width` columns, at spaces where possible, between
/// wide (CJK) characters otherwise, and hard within a word longer than a row.
fn wrap_into(text: &str, from: usize, width: u16, rows: &mut Vec<Range<usize>>) {
    let width = usize::from(width.max(1));
    let mut row_start = from;
    let mut row_width = 0usize;
    let mut last_break: Option<usize> = None;
    for (offset, grapheme) in text[from..].grapheme_indices(true) {
        let at = from + offset;
        if grapheme == "\n" || grapheme == "\r\n" {
            rows.push(row_start..at);
            row_start = at + grapheme.len();
            row_width = 0;
            last_break = None;
            continue;
        }
        let grapheme_width = if grapheme == "\t" {
            4
        } else {
            grapheme.width()
        };
        if row_width + grapheme_width > width && at > row_start {
            match last_break.filter(|&b| b > row_start && b <= at) {
                Some(split) => {
                    rows.push(row_start..split);
                    row_width = text[split..at].width();
                    row_start = split;
                }
                None => {
                    rows.push(row_start..at);
                    row_start = at;
                    row_width = 0;
                }
            }
            last_break = None;
        }
        row_width += grapheme_width;
        if grapheme.chars().all(char::is_whitespace) || grapheme_width == 2 {
            last_break = Some(at + grapheme.len());
        }
    }
    rows.push(row_start..text.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(view: &OutputView) -> Vec<String> {
        view.rows
            .iter()
            .map(|r| view.text[r.clone()].to_owned())
            .collect()
    }

    fn view(width: u16, height: u16) -> OutputView {
        let mut view = OutputView::default();
        view.resize(width, height);
        view
    }

    #[test]
    fn wraps_at_spaces() {
        let mut v = view(10, 5);
        v.push("the quick brown fox jumps");
        assert_eq!(rows(&v), ["the quick ", "brown fox ", "jumps"]);
    }

    #[test]
    fn cjk_counts_two_columns_and_breaks_anywhere() {
        let mut v = view(6, 5);
        v.push("月光照在床前地上");
        assert_eq!(rows(&v), ["月光照", "在床前", "地上"]);
        for row in v.visible_rows() {
            assert!(row.width() <= 6);
        }
    }

    #[test]
    fn streaming_equals_wrapping_at_once() {
        let text = "Line one is long enough to wrap twice here.\n\n静夜思：床前明月光，疑是地上霜。 emoji 😀 ok\nend";
        let mut whole = view(12, 4);
        whole.push(text);
        let mut streamed = view(12, 4);
        for piece in text.split_inclusive([' ', '，']) {
            streamed.push(piece);
        }
        assert_eq!(rows(&streamed), rows(&whole));
        let mut resized = view(30, 4);
        resized.push(text);
        resized.resize(12, 4);
        assert_eq!(rows(&resized), rows(&whole));
    }

    #[test]
    fn long_word_is_cut_hard() {
        let mut v = view(4, 5);
        v.push("abcdefghij");
        assert_eq!(rows(&v), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn follows_until_scrolled_up_and_again_at_bottom() {
        let mut v = view(20, 3);
        for i in 0..10 {
            v.push(&format!("line {i}\n"));
        }
        assert!(v.is_following());
        assert_eq!(v.scroll_top(), v.total_rows() - 3);
        v.scroll_by(-2);
        assert!(!v.is_following());
        let top = v.scroll_top();
        v.push("more\n");
        assert_eq!(
            v.scroll_top(),
            top,
            "scrolled-up view stays put while text streams"
        );
        v.scroll_by(100);
        assert!(v.is_following());
        v.push("again\n");
        assert_eq!(v.scroll_top(), v.total_rows() - 3);
        v.scroll_to_top();
        assert_eq!(v.visible_rows().next(), Some("line 0"));
    }
}
