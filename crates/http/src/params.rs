//! Query strings, strictly: every parameter known, given once, well-formed; a bad one is a
//! 400 that names it and says why. An empty value (`?status=`, as an HTML form sends for
//! "any") counts as absent.

use axum::extract::Query as AxumQuery;
use axum::http::Uri;
use sijil_core::event::{Category, Date};
use sijil_projector::{CaseFilter, CaseStatus, Page, Sort};

use crate::error::Error;

/// The parameters of one request's query string.
#[derive(Debug)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the query string of `uri`, accepting only the parameters in `known`.
    ///
    /// # Errors
    /// 400 for malformed percent-encoding, an unknown parameter, or one given twice.
    pub fn parse(uri: &Uri, known: &[&str]) -> Result<Query, Error> {
        let AxumQuery(pairs) = AxumQuery::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| Error::bad_parameter("query", e.body_text()))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                let expected = if known.is_empty() {
                    "this endpoint takes no parameters".to_string()
                } else {
                    format!("known parameters: {}", known.join(", "))
                };
                return Err(Error::bad_parameter(
                    name.clone(),
                    format!("unknown parameter ({expected})"),
                ));
            }
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::bad_parameter(name.clone(), "given more than once"));
            }
        }
        Ok(Query { pairs })
    }

    /// Like [`Query::parse`], but parameters not in `known` are dropped instead of refused:
    /// for the HTML pages, whose links get tracking parameters added by other sites.
    ///
    /// # Errors
    /// 400 for malformed percent-encoding, or a known parameter given twice.
    pub fn parse_lenient(uri: &Uri, known: &[&str]) -> Result<Query, Error> {
        let AxumQuery(mut pairs) = AxumQuery::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| Error::bad_parameter("query", e.body_text()))?;
        pairs.retain(|(name, _)| known.contains(&name.as_str()));
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::bad_parameter(name.clone(), "given more than once"));
            }
        }
        Ok(Query { pairs })
    }

    /// The value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer in canonical decimal (no sign, no leading zeros).
    ///
    /// # Errors
    /// 400 naming `name` when the value is not such a number.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, Error> {
        self.get(name)
            .map(|v| {
                canonical_u64(v).ok_or_else(|| {
                    Error::bad_parameter(
                        name,
                        format!(
                            "{:?} is not a non-negative integer in canonical decimal",
                            excerpt(v)
                        ),
                    )
                })
            })
            .transpose()
    }

    /// A date `YYYY-MM-DD` (years 1900–9999).
    ///
    /// # Errors
    /// 400 naming `name` when the value is not such a date.
    pub fn date(&self, name: &str) -> Result<Option<Date>, Error> {
        self.get(name)
            .map(|v| v.parse::<Date>().map_err(|e| Error::bad_parameter(name, e)))
            .transpose()
    }

    /// `as_of`, the day "overdue" is judged on, or `today`.
    ///
    /// # Errors
    /// 400 if `as_of` is not a date.
    pub fn as_of(&self, today: Date) -> Result<Date, Error> {
        Ok(self.date("as_of")?.unwrap_or(today))
    }

    /// The case filter: `status`, `controller`, `category`, `opened_from`, `opened_to`.
    ///
    /// # Errors
    /// 400 naming the parameter: an unknown status or category, a malformed date, or
    /// `opened_from` after `opened_to`.
    pub fn case_filter(&self) -> Result<CaseFilter, Error> {
        let status = self
            .get("status")
            .map(|v| {
                CaseStatus::ALL
                    .into_iter()
                    .find(|s| s.as_str() == v)
                    .ok_or_else(|| {
                        Error::bad_parameter(
                            "status",
                            format!(
                                "{:?} is not a status (one of: {})",
                                excerpt(v),
                                CaseStatus::ALL.map(|s| s.as_str()).join(", ")
                            ),
                        )
                    })
            })
            .transpose()?;
        let category = self
            .get("category")
            .map(|v| {
                Category::ALL
                    .into_iter()
                    .find(|c| c.as_str() == v)
                    .ok_or_else(|| {
                        Error::bad_parameter(
                            "category",
                            format!(
                                "{:?} is not a category (one of: {})",
                                excerpt(v),
                                Category::ALL.map(|c| c.as_str()).join(", ")
                            ),
                        )
                    })
            })
            .transpose()?;
        let controller = self
            .get("controller")
            .map(|v| {
                if v.len() > MAX_ID_LEN {
                    Err(Error::bad_parameter(
                        "controller",
                        format!("longer than {MAX_ID_LEN} bytes"),
                    ))
                } else {
                    Ok(v.to_owned())
                }
            })
            .transpose()?;
        let opened_from = self.date("opened_from")?;
        let opened_to = self.date("opened_to")?;
        if let (Some(from), Some(to)) = (opened_from, opened_to) {
            if from > to {
                return Err(Error::bad_parameter(
                    "opened_from",
                    format!("{from} is after opened_to ({to})"),
                ));
            }
        }
        Ok(CaseFilter {
            status,
            controller,
            category,
            opened_from,
            opened_to,
        })
    }

    /// The order of a case listing: `sort` = `opened_desc` (default), `opened_asc` or `id`.
    ///
    /// # Errors
    /// 400 for another value.
    pub fn sort(&self) -> Result<Sort, Error> {
        match self.get("sort") {
            None | Some("opened_desc") => Ok(Sort::OpenedDesc),
            Some("opened_asc") => Ok(Sort::OpenedAsc),
            Some("id") => Ok(Sort::Id),
            Some(v) => Err(Error::bad_parameter(
                "sort",
                format!(
                    "{:?} is not an order (opened_desc, opened_asc or id)",
                    excerpt(v)
                ),
            )),
        }
    }

    /// A page: `limit` (1 to `max`, default `default`), then `offset` or the cursor `after`
    /// (the previous page's `next`), not both.
    ///
    /// # Errors
    /// 400 naming the parameter.
    pub fn page(&self, default: usize, max: usize) -> Result<Page, Error> {
        let limit = match self.u64("limit")? {
            None => default,
            Some(l) if l >= 1 && l <= max as u64 => l as usize,
            Some(l) => {
                return Err(Error::bad_parameter(
                    "limit",
                    format!("{l} is not between 1 and {max}"),
                ))
            }
        };
        let offset = self.u64("offset")?;
        match (offset, self.get("after")) {
            (Some(_), Some(_)) => Err(Error::bad_parameter(
                "after",
                "give either offset or after, not both",
            )),
            (_, Some(after)) => Ok(Page::After {
                after: after.to_owned(),
                limit,
            }),
            (Some(o), None) if o > MAX_OFFSET => Err(Error::bad_parameter(
                "offset",
                format!("{o} is above {MAX_OFFSET}"),
            )),
            (o, None) => Ok(Page::Offset {
                offset: o.unwrap_or(0) as usize,
                limit,
            }),
        }
    }
}

/// The longest id accepted in a query (the projector's ids are far shorter).
const MAX_ID_LEN: usize = 256;

/// The largest `offset`: beyond any register's number of cases, small enough for `usize`.
const MAX_OFFSET: u64 = 1 << 32;

/// A canonical decimal `u64`: digits only, no leading zero unless it is `0`.
pub fn canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// At most 64 characters of a client's value, to quote it back.
fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str, known: &[&str]) -> Result<Query, Error> {
        let uri: Uri = format!("/x?{s}").parse().expect("uri");
        Query::parse(&uri, known)
    }

    #[test]
    fn canonical_numbers_only() {
        assert_eq!(canonical_u64("0"), Some(0));
        assert_eq!(canonical_u64("1234"), Some(1234));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            " 1",
            "1e3",
            "18446744073709551616",
            "0x10",
        ] {
            assert_eq!(canonical_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        assert!(q("index=1", &["index", "size"]).is_ok());
        let e = q("index=1&foo=2", &["index"]).expect_err("unknown");
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(e.message().contains("unknown"));
        let e = q("index=1&index=2", &["index"]).expect_err("twice");
        assert!(e.message().contains("more than once"));
    }

    #[test]
    fn values_are_checked() {
        let query = q(
            "index=01&as_of=2024-13-01&limit=0",
            &["index", "as_of", "limit"],
        )
        .expect("parses");
        assert!(query.u64("index").is_err());
        assert!(query.date("as_of").is_err());
        assert!(query.page(50, 1000).is_err());
        let query = q(
            "status=&category=privacy&opened_from=2024-01-02&opened_to=2024-01-01",
            &["status", "category", "opened_from", "opened_to"],
        )
        .expect("parses");
        let e = query.case_filter().expect_err("from after to");
        assert!(e.message().contains("after"));
        let query = q("status=open&category=privacy", &["status", "category"]).expect("parses");
        let f = query.case_filter().expect("valid");
        assert_eq!(f.status, Some(CaseStatus::Open));
        assert_eq!(f.category, Some(Category::Privacy));
    }
}
