//! HTML forms as a browser reads them off a page: each `<form>`'s action and method, and the
//! controls it would submit, hidden ones (a CSRF token) included.
//!
//! A small tokenizer after the HTML Living Standard's (§13.2.5), enough for pages this
//! server renders and for pages written to trip it: quoted, unquoted and valueless
//! attributes, case-insensitive names, character references, comments, and `<script>`,
//! `<style>`, `<title>` and `<textarea>` contents that are text, not tags. The entry list
//! follows §4.10.21.4 for the controls it knows: `input` (checkboxes and radios only when
//! checked; buttons, `submit`, `image`, `reset` and `file` never, so the test names the
//! button it "clicks"), `textarea` and `select`; disabled controls are left out.

use reqwest::{Method, Url};

/// A form on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The page's URL: the action is resolved against it, and its origin is the submission's
    /// `Origin`.
    pub page: Url,
    pub action: Url,
    /// `GET` or `POST` (the `method` attribute; `GET` when absent or unknown).
    pub method: Method,
    /// The controls it submits, in document order.
    pub fields: Vec<Field>,
}

/// One control's entry in a form submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// The input's `type` (lower-cased, `text` when absent), or `textarea` / `select`.
    pub kind: String,
}

impl Form {
    /// The value of the hidden input `name` (a CSRF token, a parked request's id).
    pub fn hidden(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.kind == "hidden" && f.name == name)
            .map(|f| f.value.as_str())
    }

    /// The value of the first control named `name`, of any kind.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// The entry list with `overrides` applied: each sets the first control of its name, or
    /// is added at the end when the form has none (the clicked button, say).
    pub fn entries(&self, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut entries: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        for (name, value) in overrides {
            match entries.iter_mut().find(|(n, _)| n == name) {
                Some(entry) => entry.1 = (*value).to_owned(),
                None => entries.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        entries
    }
}

/// Every form in `html`, the page at `page`, in document order. A `<form>` inside an open
/// form is ignored, as browsers do; controls outside any form belong to none.
pub fn forms(html: &str, page: &Url) -> Vec<Form> {
    let mut found = Vec::new();
    let mut open: Option<Form> = None;
    let mut select: Option<Select> = None;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            // A '<' that opens no tag is text.
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.len..];
        match (tag.end, tag.name.as_str()) {
            (false, "script" | "style" | "title") => rest = skip_text(rest, &tag.name).1,
            (false, "textarea") => {
                let (text, after) = skip_text(rest, "textarea");
                rest = after;
                // §13.2.6.4.7: a newline right after the start tag is not content.
                let text = text.strip_prefix('\n').unwrap_or(text);
                if let Some(form) = open.as_mut() {
                    push_control(form, &tag, "textarea", decode(text));
                }
            }
            (false, "form") if open.is_none() => {
                let action = tag
                    .attr("action")
                    .filter(|a| !a.trim().is_empty())
                    .and_then(|a| page.join(a.trim()).ok())
                    .unwrap_or_else(|| page.clone());
                let method = match tag.attr("method").map(str::to_ascii_lowercase).as_deref() {
                    Some("post") => Method::POST,
                    _ => Method::GET,
                };
                open = Some(Form {
                    page: page.clone(),
                    action,
                    method,
                    fields: Vec::new(),
                });
            }
            (true, "form") => found.extend(open.take()),
            (false, "input") => {
                if let Some(form) = open.as_mut() {
                    let kind = tag
                        .attr("type")
                        .map_or("text".to_owned(), str::to_ascii_lowercase);
                    let skipped = matches!(
                        kind.as_str(),
                        "submit" | "image" | "reset" | "button" | "file"
                    ) || (matches!(kind.as_str(), "checkbox" | "radio")
                        && tag.attr("checked").is_none());
                    if !skipped {
                        let default = if kind == "checkbox" || kind == "radio" {
                            "on"
                        } else {
                            ""
                        };
                        let value = tag.attr("value").unwrap_or(default).to_owned();
                        push_control(form, &tag, &kind, value);
                    }
                }
            }
            (false, "select") => {
                select = Some(Select {
                    tag,
                    chosen: None,
                    first: None,
                })
            }
            (false, "option") => {
                if let Some(select) = select.as_mut() {
                    let value = match tag.attr("value") {
                        Some(v) => v.to_owned(),
                        // The option's text, whitespace collapsed.
                        None => decode(&rest[..rest.find('<').unwrap_or(rest.len())])
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                    };
                    if tag.attr("selected").is_some() && select.chosen.is_none() {
                        select.chosen = Some(value.clone());
                    }
                    select.first.get_or_insert(value);
                }
            }
            (true, "select") => {
                if let (Some(select), Some(form)) = (select.take(), open.as_mut())
                    && let Some(value) = select.chosen.or(select.first)
                {
                    push_control(form, &select.tag, "select", value);
                }
            }
            _ => {}
        }
    }
    // An unclosed form ends with the document.
    found.extend(open);
    found
}

/// A `<select>` being read: its tag, the first selected option and the first option.
struct Select {
    tag: Tag,
    chosen: Option<String>,
    first: Option<String>,
}

fn push_control(form: &mut Form, tag: &Tag, kind: &str, value: String) {
    let Some(name) = tag.attr("name").filter(|n| !n.is_empty()) else {
        return;
    };
    if tag.attr("disabled").is_some() {
        return;
    }
    form.fields.push(Field {
        name: name.to_owned(),
        value,
        kind: kind.to_owned(),
    });
}

/// Splits `html` at the end tag `</name` (any case): the text before it, and what follows
/// the end tag.
fn skip_text<'a>(html: &'a str, name: &str) -> (&'a str, &'a str) {
    let lower = html.to_ascii_lowercase();
    let close = format!("</{name}");
    match lower.find(&close) {
        Some(at) => {
            let after = &html[at..];
            let end = after.find('>').map_or(after.len(), |e| e + 1);
            (&html[..at], &after[end..])
        }
        None => (html, ""),
    }
}

/// A start or end tag: its lower-cased name, its attributes (names lower-cased, values with
/// character references decoded; the first of a repeated name wins), and its length.
#[derive(Debug)]
struct Tag {
    name: String,
    end: bool,
    attrs: Vec<(String, String)>,
    len: usize,
}

impl Tag {
    /// The tag `html` starts with, if its `<` opens one (a letter follows, or `/` and one).
    fn parse(html: &str) -> Option<Self> {
        let bytes = html.as_bytes();
        let end = bytes.get(1) == Some(&b'/');
        let mut i = if end { 2 } else { 1 };
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        let start = i;
        while i < bytes.len() && !is_space(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            while i < bytes.len() && (is_space(bytes[i]) || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b'>' {
                i += 1;
                break;
            }
            let start = i;
            // An attribute name runs to a space, '/', '>' or '=' (a leading '=' is part of it).
            i += 1;
            while i < bytes.len() && !matches!(bytes[i], b'/' | b'>' | b'=') && !is_space(bytes[i])
            {
                i += 1;
            }
            let attr = html[start..i].to_ascii_lowercase();
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            let mut value = String::new();
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                while i < bytes.len() && is_space(bytes[i]) {
                    i += 1;
                }
                match bytes.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let from = i + 1;
                        let to = html[from..]
                            .find(q as char)
                            .map_or(html.len(), |e| from + e);
                        value = decode(&html[from..to]);
                        i = (to + 1).min(html.len());
                    }
                    _ => {
                        let from = i;
                        while i < bytes.len() && !is_space(bytes[i]) && bytes[i] != b'>' {
                            i += 1;
                        }
                        value = decode(&html[from..i]);
                    }
                }
            }
            if !attrs.iter().any(|(n, _)| *n == attr) {
                attrs.push((attr, value));
            }
        }
        Some(Self {
            name,
            end,
            attrs,
            len: i,
        })
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// `text` with its character references decoded: numeric ones, and the named ones templates
/// write (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;`). Anything else stays as written.
pub fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|semi| {
            let name = &rest[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://127.0.0.1:8080/auth/login?x=1").unwrap()
    }

    fn only(html: &str) -> Form {
        let mut all = forms(html, &page());
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn pairs(form: &Form) -> Vec<(&str, &str)> {
        form.fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect()
    }

    #[test]
    fn action_method_and_hidden_fields_of_a_sign_in_page() {
        let form = only(
            r#"<!doctype html><html><body>
            <form method="post" action="/auth/login?next=%2Fdone">
              <input type="hidden" name="csrf_token" value="a1&amp;b2">
              <label>User <input type="text" name="username"></label>
              <input type="password" name="password" value="">
              <button type="submit" name="decision" value="approve">Sign in</button>
            </form></body></html>"#,
        );
        assert_eq!(form.method, Method::POST);
        assert_eq!(
            form.action.as_str(),
            "http://127.0.0.1:8080/auth/login?next=%2Fdone"
        );
        assert_eq!(form.hidden("csrf_token"), Some("a1&b2"));
        assert_eq!(form.hidden("username"), None, "a text input is not hidden");
        assert_eq!(
            pairs(&form),
            [("csrf_token", "a1&b2"), ("username", ""), ("password", "")]
        );
    }

    #[test]
    fn attribute_syntax_and_case_vary_freely() {
        let form = only(
            "<FORM METHOD=POST Action='consent'>\
             <INPUT TYPE=HIDDEN NAME=a VALUE=1>\
             <input name='b' value='x \"y\" > z'/>\
             <input\tname = \"c\"\nvalue\t=\t\"3\" data-x>\
             <input name=d value=one value=two>\
             <input name=e>\
             </form>",
        );
        assert_eq!(form.method, Method::POST);
        assert_eq!(form.action.as_str(), "http://127.0.0.1:8080/auth/consent");
        assert_eq!(form.hidden("a"), Some("1"));
        assert_eq!(
            pairs(&form),
            [
                ("a", "1"),
                ("b", "x \"y\" > z"),
                ("c", "3"),
                ("d", "one"),
                ("e", "")
            ]
        );
    }

    #[test]
    fn comments_scripts_styles_and_titles_hide_their_tags() {
        let all = forms(
            r#"<head><title>a <form> title</title>
            <style>form::after { content: "<form action=/style>"; }</style>
            <script>document.write("<form action='/script'><input name=s></form>");</script>
            </head><!-- <form action="/comment"><input name=c></form> -->
            <form action="/real"><input type="hidden" name="k" value="v"></form>"#,
            &page(),
        );
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].action.path(), "/real");
        assert_eq!(pairs(&all[0]), [("k", "v")]);
    }

    #[test]
    fn the_entry_list_follows_the_standard_for_each_control() {
        let form = only(
            "<form>\
             <input type=checkbox name=remember value=yes>\
             <input type=checkbox name=terms checked>\
             <input type=radio name=r value=1><input type=radio name=r value=2 checked>\
             <input type=submit name=go value=Go><input type=image name=i>\
             <input type=reset name=rs><input type=file name=f><input type=button name=b>\
             <input name=off value=1 disabled>\
             <input value=nameless>\
             <textarea name=t>\nline &lt;1&gt;\n<b>not a tag</b></textarea>\
             <select name=s1><option>First  one</option><option value=2 selected>Two</select>\
             <select name=s2><option value=a>A<option value=b></select>\
             </form>",
        );
        assert_eq!(form.method, Method::GET);
        assert_eq!(form.action, page(), "no action: the page itself");
        assert_eq!(
            pairs(&form),
            [
                ("terms", "on"),
                ("r", "2"),
                ("t", "line <1>\n<b>not a tag</b>"),
                ("s1", "2"),
                ("s2", "a")
            ]
        );
        assert_eq!(form.fields[2].kind, "textarea");
        let s1 = only("<form><select name=s><option> First  one </option></select></form>");
        assert_eq!(s1.value("s"), Some("First one"));
    }

    #[test]
    fn several_forms_nesting_and_unclosed_forms() {
        let all = forms(
            "<form action=/one><input name=a value=1>\
             <form action=/nested><input name=b value=2></form>\
             <input name=outside value=3>\
             <form action=/two method=dialog><input name=c value=4>",
            &page(),
        );
        let summary: Vec<(&str, Vec<(&str, &str)>)> =
            all.iter().map(|f| (f.action.path(), pairs(f))).collect();
        assert_eq!(
            summary,
            [
                ("/one", vec![("a", "1"), ("b", "2")]),
                ("/two", vec![("c", "4")])
            ]
        );
        assert_eq!(all[1].method, Method::GET);
    }

    #[test]
    fn stray_angle_brackets_and_truncated_markup_do_not_panic() {
        for html in [
            "a < b <form",
            "<form action=\"/x",
            "<form><input name='a",
            "<form><textarea name=t>never closed",
            "<!-- never closed <form>",
            "<form><input name=a value=\"&#x110000;&#xZZ;&unknown;&#65;\"></form>",
            "<",
            "</",
            "<form><option>lost</option></form>",
        ] {
            let _ = forms(html, &page());
        }
        let form = only("<form><input name=a value=\"&#x110000;&#xZZ;&unknown;&#65;&#x42;\">");
        assert_eq!(form.value("a"), Some("&#x110000;&#xZZ;&unknown;AB"));
    }

    #[test]
    fn overrides_set_named_controls_and_add_the_others() {
        let form = only("<form><input type=hidden name=csrf value=t><input name=user></form>");
        assert_eq!(
            form.entries(&[("user", "alice"), ("decision", "approve")]),
            [
                ("csrf".to_owned(), "t".to_owned()),
                ("user".to_owned(), "alice".to_owned()),
                ("decision".to_owned(), "approve".to_owned())
            ]
        );
    }
}
