//! The small chart of a tenant's last cycles on the operator page: server-rendered SVG (no
//! script), three bars per cycle — created, updated, refused — scaled to the tenant's largest
//! count, each with a `<title>` giving its number, so that hovering (or a screen reader) tells
//! the counts and the bars show at a glance which tenants refuse.

use crate::domain::activity::Cycle;
use crate::service::operator_page::CHART_CYCLES;

/// The width each cycle takes, in the chart's units.
const SLOT: u32 = 10;
/// The width of one bar.
const BAR: u32 = 3;
/// The height of the tallest bar; the chart is one unit taller, for the baseline.
const PLOT: u32 = 38;

/// One bar: where it is, what it counts and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// `created`, `updated` or `refused`: its CSS class (its colour).
    pub class: &'static str,
    pub title: String,
}

/// One cycle's bars and what they say together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub title: String,
    pub bars: [Bar; 3],
}

/// The chart of a tenant's cycles, oldest on the left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub slots: Vec<Slot>,
    /// What the chart shows, for those who cannot see it.
    pub label: String,
}

/// The height of `count` on a scale whose tallest bar is `max`: at least one unit when there
/// is anything to show.
fn height(count: u64, max: u64) -> u32 {
    if count == 0 || max == 0 {
        return 0;
    }
    let scaled = (u128::from(count) * u128::from(PLOT)).div_ceil(u128::from(max));
    u32::try_from(scaled).unwrap_or(PLOT).clamp(1, PLOT)
}

pub fn chart(cycles: &[Cycle]) -> Chart {
    let shown = &cycles[cycles.len().saturating_sub(CHART_CYCLES)..];
    let counts = |c: &Cycle| [c.created.total(), c.updated.total(), c.refused.total()];
    let max = shown.iter().flat_map(counts).max().unwrap_or(0);
    let slots = shown
        .iter()
        .zip(0u32..)
        .map(|(c, i)| {
            let when = c.started.format("%Y-%m-%d %H:%M UTC");
            let [created, updated, refused] = counts(c);
            let bar = |k: u32, count: u64, class: &'static str| {
                let h = height(count, max);
                Bar {
                    x: i * SLOT + 1 + k * BAR,
                    y: PLOT - h,
                    width: BAR,
                    height: h,
                    class,
                    title: format!("cycle of {when}: {count} {class}"),
                }
            };
            Slot {
                title: format!(
                    "cycle of {when}: {created} created, {updated} updated, {refused} refused"
                ),
                bars: [
                    bar(0, created, "created"),
                    bar(1, updated, "updated"),
                    bar(2, refused, "refused"),
                ],
            }
        })
        .collect::<Vec<_>>();
    let total = |k: usize| shown.iter().map(|c| counts(c)[k]).sum::<u64>();
    Chart {
        width: SLOT * CHART_CYCLES as u32,
        height: PLOT + 1,
        label: format!(
            "last {} cycles: {} created, {} updated, {} refused",
            slots.len(),
            total(0),
            total(1),
            total(2)
        ),
        slots,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::*;
    use crate::domain::activity::Counts;

    fn cycle(hour: i64, created: u64, updated: u64, refused: u64) -> Cycle {
        let at = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::hours(hour);
        Cycle {
            started: at,
            last: at,
            created: Counts {
                users: created,
                groups: 0,
            },
            updated: Counts {
                users: updated,
                groups: 0,
            },
            refused: Counts {
                users: refused,
                groups: 0,
            },
            ..Cycle::default()
        }
    }

    #[test]
    fn bars_scale_to_the_largest_count_and_their_titles_give_the_numbers() {
        let c = chart(&[cycle(0, 10, 0, 60), cycle(1, 1, 2, 0)]);
        assert_eq!((c.width, c.height), (120, 39));
        assert_eq!(c.label, "last 2 cycles: 11 created, 2 updated, 60 refused");
        let first = &c.slots[0];
        assert_eq!(
            first.title,
            "cycle of 1970-01-01 00:00 UTC: 10 created, 0 updated, 60 refused"
        );
        let [created, updated, refused] = &first.bars;
        assert_eq!((refused.height, refused.y, refused.x), (38, 0, 7));
        assert_eq!((created.height, created.y, created.x), (7, 31, 1));
        assert_eq!(updated.height, 0);
        assert_eq!(refused.title, "cycle of 1970-01-01 00:00 UTC: 60 refused");
        // the smallest count still shows
        assert_eq!(c.slots[1].bars[0].height, 1);
        assert_eq!(c.slots[1].bars[0].x, 11);
    }

    #[test]
    fn only_the_last_cycles_are_drawn_and_none_is_an_empty_chart() {
        let many: Vec<Cycle> = (0..20).map(|h| cycle(h, 1, 1, 1)).collect();
        let c = chart(&many);
        assert_eq!(c.slots.len(), CHART_CYCLES);
        assert!(
            c.slots[0]
                .title
                .starts_with("cycle of 1970-01-01 08:00 UTC")
        );
        let empty = chart(&[]);
        assert!(empty.slots.is_empty());
        assert_eq!(
            empty.label,
            "last 0 cycles: 0 created, 0 updated, 0 refused"
        );
    }
}
