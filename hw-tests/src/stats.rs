//! Percentiles over measured samples.

/// p50 / p99 / max of a set of samples (nearest-rank percentiles).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Summarise `samples` (unsorted); `None` when empty.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Some(Summary { count: v.len(), p50: rank(0.50), p99: rank(0.99), max: v[v.len() - 1] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        let r = summarize(&s).expect("non-empty");
        assert_eq!((r.count, r.p50, r.p99, r.max), (100, 50.0, 99.0, 100.0));
        assert_eq!(summarize(&[]), None);
        let one = summarize(&[7.0]).expect("non-empty");
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
    }
}
