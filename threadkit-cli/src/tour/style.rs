//! Colour for the tour's output: only on a terminal, and never when the
//! `NO_COLOR` environment variable is set to anything (<https://no-color.org>).

use std::io::IsTerminal;

/// Whether to colour the output, decided once at the start.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Style {
    colour: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub(crate) fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            colour: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A held claim's mark.
    pub(crate) fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// A failed claim's mark.
    pub(crate) fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// An inconclusive claim.
    pub(crate) fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Lesson headers.
    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Source code and other secondary text.
    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_without_colour() {
        let plain = Style { colour: false };
        assert_eq!(plain.red("✘"), "✘");
        let coloured = Style { colour: true };
        assert_eq!(coloured.red("✘"), "\x1b[31m✘\x1b[0m");
    }
}
