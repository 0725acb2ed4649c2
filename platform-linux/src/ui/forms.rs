//! Reading submitted forms: the fields of an `application/x-www-form-urlencoded` body,
//! and values parsed with errors that name the field.

use axum::Form;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::pages::login;

/// Largest form body accepted: far above any form here, far below a nuisance.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A form's fields in order.
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A checkbox: present means ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A required text value, trimmed.
    pub fn text(&self, name: &str) -> Result<String, String> {
        match self.get(name).map(str::trim) {
            Some(v) => Ok(v.to_owned()),
            None => Err(format!("{name}: missing from the form")),
        }
    }

    /// A required whole number in `min..=max`.
    pub fn number(&self, name: &str, min: u64, max: u64) -> Result<u64, String> {
        let v = self.text(name)?;
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name}: `{v}` is not a whole number from {min} to {max}")),
        }
    }

    /// An optional number in `1..=255` (empty clears it).
    pub fn optional_u8(&self, name: &str) -> Result<Option<u8>, String> {
        let v = self.get(name).map(str::trim).unwrap_or_default();
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<u8>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(format!("{name}: `{v}` is not a number from 1 to 255 (or empty)")),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(v)) => Ok(Self(v)),
            Err(e) => {
                let status = e.status();
                let message = format!("The form could not be read: {}", e.body_text());
                Err((status, Html(login::refused(&message).into_string())).into_response())
            }
        }
    }
}

/// A refusal page for a bad form, 400.
pub fn bad_form(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(login::refused(message).into_string())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn values_parse_with_errors_naming_the_field() {
        let form = f(&[("timeout_ms", " 3000 "), ("bad", "x"), ("group", ""), ("vhid", "0"), ("c", "on")]);
        assert_eq!(form.number("timeout_ms", 0, 120_000), Ok(3000));
        assert_eq!(
            form.number("timeout_ms", 0, 100),
            Err("timeout_ms: `3000` is not a whole number from 0 to 100".into())
        );
        assert_eq!(form.number("bad", 0, 1), Err("bad: `x` is not a whole number from 0 to 1".into()));
        assert_eq!(form.number("absent", 0, 1), Err("absent: missing from the form".into()));
        assert_eq!(form.optional_u8("group"), Ok(None));
        assert_eq!(form.optional_u8("absent"), Ok(None));
        assert!(form.optional_u8("vhid").unwrap_err().starts_with("vhid: `0`"));
        assert!(form.checked("c"));
        assert!(!form.checked("d"));
    }
}
