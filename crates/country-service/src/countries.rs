//! The ISO 3166-1 country list (from the `celes` crate), indexed once by alpha-2 and alpha-3.
//!
//! `celes` also lists Kosovo (`XK`, `XKX`, `383`): user-assigned codes (ISO 3166-1 leaves `AA`,
//! `QM`–`QZ`, `XA`–`XZ` and `ZZ` to its users), not an ISO 3166-1 entry, so they are left out
//! and the list has the standard's 249 entries. customer-service refuses `XK` likewise.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Country {
    pub alpha2: &'static str,
    pub alpha3: &'static str,
    pub numeric: &'static str,
    pub name: &'static str,
}

const USER_ASSIGNED: [&str; 1] = ["XK"];

pub struct Countries {
    all: Vec<Country>,
    by_code: HashMap<String, usize>,
}

impl Countries {
    pub fn load() -> Self {
        let mut all: Vec<Country> = celes::Country::get_countries()
            .iter()
            .filter(|c| !USER_ASSIGNED.contains(&c.alpha2))
            .map(|c| Country {
                alpha2: c.alpha2,
                alpha3: c.alpha3,
                numeric: c.code,
                name: c.long_name,
            })
            .collect();
        all.sort_by_key(|c| c.alpha2);
        let mut by_code = HashMap::new();
        for (i, c) in all.iter().enumerate() {
            by_code.insert(c.alpha2.to_ascii_uppercase(), i);
            by_code.insert(c.alpha3.to_ascii_uppercase(), i);
        }
        Self { all, by_code }
    }

    pub fn all(&self) -> &[Country] {
        &self.all
    }

    /// By alpha-2 or alpha-3 code, in any case.
    pub fn find(&self, code: &str) -> Option<&Country> {
        if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        self.by_code
            .get(&code.to_ascii_uppercase())
            .map(|&i| &self.all[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_either_code_in_any_case() {
        let c = Countries::load();
        let de = c.find("de").unwrap();
        assert_eq!((de.alpha2, de.alpha3, de.numeric), ("DE", "DEU", "276"));
        assert_eq!(c.find("DEU"), Some(de));
        assert_eq!(c.find("dEu"), Some(de));
        for bad in ["", "D", "XX", "DEUT", "d1", "ÄÖ", "XK", "xkx"] {
            assert!(c.find(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_full_list_has_unique_codes() {
        let c = Countries::load();
        assert_eq!(c.all().len(), 249);
        let mut alpha2: Vec<_> = c.all().iter().map(|c| c.alpha2).collect();
        alpha2.dedup();
        assert_eq!(alpha2.len(), c.all().len());
    }
}
