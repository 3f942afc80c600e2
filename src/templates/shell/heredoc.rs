//! Here-documents: the delimiter after `<<`, and the bodies after the line that opened
//! them, where a reference is refused (the text usually feeds another program).

use super::Tok;
use super::lexer::Lexer;

impl Lexer<'_> {
    /// `<<` seen (the first `<` written): read the operator's rest and the delimiter.
    pub(super) fn heredoc(&mut self) {
        self.end_word();
        self.take(1);
        let strip = self.peek(0) == Some('-');
        if strip {
            self.take(1);
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.take(1);
        }
        let mut delimiter = String::new();
        let mut quote: Option<char> = None;
        let mut quoted = false;
        loop {
            if quote.is_none() {
                self.skip_continuations();
            }
            let Some(p) = self.toks.get(self.at) else {
                break;
            };
            match &p.tok {
                Tok::Ref { raw, .. } => {
                    self.at += 1;
                    self.refuse(
                        p,
                        raw,
                        "is in a here-document's delimiter",
                        "write the delimiter as plain text",
                    );
                }
                Tok::Char(c) => {
                    let c = *c;
                    match quote {
                        Some(q) if c == q => quote = None,
                        Some(_) => delimiter.push(c),
                        None if c == '\'' || c == '"' => {
                            quote = Some(c);
                            quoted = true;
                        }
                        None if c == '\\' => {
                            // `\x` quotes `x`.
                            quoted = true;
                            self.at += 1;
                            self.out.push(c);
                            if let Some(Tok::Char(next)) = self.toks.get(self.at).map(|p| &p.tok) {
                                delimiter.push(*next);
                                self.out.push(*next);
                                self.at += 1;
                            }
                            continue;
                        }
                        None if c.is_whitespace() || ";&|<>()".contains(c) => break,
                        None => delimiter.push(c),
                    }
                    self.at += 1;
                    self.out.push(c);
                }
            }
        }
        self.heredocs.push((delimiter, strip, quoted));
    }

    /// After a newline: the bodies of the here-documents opened on the line just ended.
    /// In a body whose delimiter is not quoted, a `\` at the end of a line joins the next,
    /// as the shell reads it.
    pub(super) fn heredoc_bodies(&mut self) {
        for (delimiter, strip, quoted) in std::mem::take(&mut self.heredocs) {
            let mut logical = String::new();
            let mut plain = true;
            while self.at < self.toks.len() {
                let start = self.at;
                let mut end = start;
                while end < self.toks.len() && !matches!(self.toks[end].tok, Tok::Char('\n')) {
                    end += 1;
                }
                for p in &self.toks[start..end] {
                    match &p.tok {
                        Tok::Char(c) => {
                            self.out.push(*c);
                            logical.push(*c);
                        }
                        Tok::Ref { raw, .. } => {
                            plain = false;
                            self.refuse(
                                p,
                                raw,
                                "is inside a here-document, whose text the program it feeds may read as code",
                                "pass it as an argument, or read it from the environment ($TASKER_CONTEXT_*) or from $TASKER_INPUT",
                            );
                        }
                    }
                }
                self.at = end;
                if self.at < self.toks.len() {
                    self.at += 1;
                    self.out.push('\n');
                }
                let trailing = logical.len() - logical.trim_end_matches('\\').len();
                if !quoted && trailing % 2 == 1 {
                    // Continued on the next line.
                    logical.pop();
                    continue;
                }
                let line = if strip {
                    logical.trim_start_matches('\t')
                } else {
                    &logical
                };
                let closes = plain && line == delimiter;
                logical.clear();
                plain = true;
                if closes {
                    break;
                }
            }
        }
    }
}
