//! The KPI rows a report asks for, for the whole company or for one edition
//! (`--each region` → the rows of one region). An edition adds its
//! dimension to every request and keeps the rows of its value; an indicator
//! that cannot be cut by that dimension (inventory by region, say) gives
//! rows without values, so the report shows n/a and says why.

use crate::calendar::{Period, Slot};
use crate::error::Result;
use crate::indicators::compute::Context;
use crate::indicators::{compute, Catalogue, Engine, KpiRequest, KpiRow};

/// One value of one dimension: the figures an edition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edition {
    pub dimension: String,
    pub value: String,
}

pub struct Rows<'a> {
    pub engine: &'a dyn Engine,
    pub catalogue: &'a Catalogue,
    pub context: &'a Context,
    pub edition: Option<&'a Edition>,
}

impl Rows<'_> {
    /// Whether `id` can be shown for the edition (always without one).
    pub fn supported(&self, id: &str) -> bool {
        match self.edition {
            None => true,
            Some(edition) => self
                .catalogue
                .indicator(id)
                .map(|indicator| {
                    self.catalogue
                        .dimensions(indicator)
                        .contains(&edition.dimension)
                })
                .unwrap_or(false),
        }
    }

    /// Rows of `ids` for `periods` by `dims`. In an edition, indicators it
    /// cannot cut give one value-less row per period (and none by a dimension).
    pub fn run(&self, ids: &[&str], periods: Vec<Period>, dims: &[&str]) -> Result<Vec<KpiRow>> {
        let request = |ids: Vec<&str>, dims: Vec<&str>| KpiRequest {
            indicators: ids.iter().map(|id| id.to_string()).collect(),
            periods: periods.clone(),
            dims: dims.iter().map(|dim| dim.to_string()).collect(),
        };
        let Some(edition) = self.edition else {
            return compute(
                self.engine,
                self.catalogue,
                self.context,
                &request(ids.to_vec(), dims.to_vec()),
            );
        };
        let cut: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| self.supported(id))
            .collect();
        let mut rows = Vec::new();
        if !cut.is_empty() {
            let mut all_dims = vec![edition.dimension.as_str()];
            all_dims.extend(dims.iter().filter(|dim| **dim != edition.dimension));
            let edition_rows = compute(
                self.engine,
                self.catalogue,
                self.context,
                &request(cut, all_dims),
            )?;
            for mut row in edition_rows {
                let mine =
                    matches!(row.dims.first(), Some((_, Some(value))) if *value == edition.value);
                if mine {
                    row.dims.remove(0);
                    rows.push(row);
                }
            }
            // A request by the edition's own dimension keeps that column.
            if dims.contains(&edition.dimension.as_str()) {
                for row in &mut rows {
                    row.dims
                        .insert(0, (edition.dimension.clone(), Some(edition.value.clone())));
                }
            }
        }
        if dims.is_empty() {
            // One row per indicator and period, as without an edition: a
            // period the edition's value has no data in gives a row
            // without values, like an indicator it cannot cut.
            for id in ids {
                let indicator = self.catalogue.indicator(id)?;
                for period in &periods {
                    if rows
                        .iter()
                        .any(|row| row.indicator == *id && row.period == *period)
                    {
                        continue;
                    }
                    let partial = Slot::new(*period, self.context.as_of)?.is_partial();
                    rows.push(KpiRow {
                        indicator: indicator.id.clone(),
                        label: indicator.label.clone(),
                        unit: indicator.unit,
                        direction: indicator.direction,
                        change_kind: indicator.unit.change_kind(),
                        period: *period,
                        partial,
                        dims: Vec::new(),
                        value: None,
                        previous: None,
                        change_vs_previous: None,
                        last_year: None,
                        change_vs_last_year: None,
                        target: None,
                        status: None,
                        sample_size: None,
                        low_sample: false,
                    });
                }
            }
            // The order the report expects: by indicator as asked, then period.
            rows.sort_by_key(|row| {
                (
                    ids.iter().position(|id| *id == row.indicator),
                    periods.iter().position(|p| *p == row.period),
                )
            });
        }
        Ok(rows)
    }

    /// The values of `dimension` with sales in `period`, in order: the
    /// editions of `--each`.
    pub fn values(&self, dimension: &str, period: Period) -> Result<Vec<String>> {
        let rows = compute(
            self.engine,
            self.catalogue,
            self.context,
            &KpiRequest {
                indicators: vec!["net_sales".into()],
                periods: vec![period],
                dims: vec![dimension.into()],
            },
        )?;
        let mut values: Vec<String> = rows
            .into_iter()
            .filter(|row| row.value.is_some())
            .filter_map(|row| row.dims.into_iter().next().and_then(|(_, value)| value))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}
