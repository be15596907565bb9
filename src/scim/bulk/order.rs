//! The order a BulkRequest's operations run in (RFC 7644 §3.7): an operation that names a
//! bulkId runs after the POST that defines it; where nothing depends, in request order; the
//! operations that can never run — in a cycle, naming their own bulkId, or waiting on one of
//! those — last, in request order, as [`Step::Circular`] (§3.7.1 answers them 409).
//!
//! Kahn's algorithm with a min-heap of the operations ready to run: the smallest ready index
//! goes first, which is request order where nothing depends. O((n + e) log n) for n
//! operations and e references, since one request may hold a thousand operations and one
//! operation tens of thousands of references within the body limit, and this runs before any
//! `.await`, where the request's timeout cannot interrupt it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// An operation as ordering sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Node<'a> {
    /// The bulkId it defines: a POST's.
    pub defines: Option<&'a str>,
    /// The bulkIds it names, each once.
    pub needs: &'a [&'a str],
}

/// What to do with an operation, by its index in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Run(usize),
    Circular(usize),
}

/// Every operation once: those that can run in dependency order, then the rest as circular.
pub fn order(ops: &[Node<'_>]) -> Vec<Step> {
    // should two POSTs share a bulkId, the later one defines it
    let defines: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| op.defines.map(|b| (b, i)))
        .collect();
    let mut waiting = vec![0usize; ops.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    let mut names_itself = vec![false; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        for &j in op.needs.iter().filter_map(|b| defines.get(b)) {
            if j == i {
                names_itself[i] = true;
            } else {
                waiting[i] += 1;
                dependents[j].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..ops.len())
        .filter(|&i| waiting[i] == 0 && !names_itself[i])
        .map(Reverse)
        .collect();
    let mut ran = vec![false; ops.len()];
    let mut steps = Vec::with_capacity(ops.len());
    while let Some(Reverse(i)) = ready.pop() {
        ran[i] = true;
        steps.push(Step::Run(i));
        for &k in &dependents[i] {
            waiting[k] -= 1;
            if waiting[k] == 0 && !names_itself[k] {
                ready.push(Reverse(k));
            }
        }
    }
    steps.extend((0..ops.len()).filter(|&i| !ran[i]).map(Step::Circular));
    steps
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use proptest::{collection, option};

    use super::*;

    fn post<'a>(bulk_id: &'a str, needs: &'a [&'a str]) -> Node<'a> {
        Node {
            defines: Some(bulk_id),
            needs,
        }
    }

    fn other<'a>(needs: &'a [&'a str]) -> Node<'a> {
        Node {
            defines: None,
            needs,
        }
    }

    #[test]
    fn operations_run_after_what_they_name_in_request_order_otherwise_and_cycles_come_last() {
        use Step::{Circular, Run};
        let ops = [
            post("group", &["alice", "bob"]), // 0: after 3 and 5
            other(&[]),                       // 1: nothing needed
            post("a", &["b"]),                // 2: a cycle with 4
            post("alice", &[]),               // 3
            post("b", &["a"]),                // 4: a cycle with 2
            post("bob", &["nowhere"]),        // 5: an undefined bulkId is not a dependency
            other(&["a"]),                    // 6: waits on the cycle
            post("me", &["me"]),              // 7: names itself
            other(&["group"]),                // 8: after 0
        ];
        assert_eq!(
            order(&ops),
            [
                Run(1),
                Run(3),
                Run(5),
                Run(0),
                Run(8),
                Circular(2),
                Circular(4),
                Circular(6),
                Circular(7),
            ]
        );
    }

    #[test]
    fn without_references_the_request_order_is_kept() {
        let ops = [Node::default(); 5];
        let expected: Vec<Step> = (0..5).map(Step::Run).collect();
        assert_eq!(order(&ops), expected);
        assert!(order(&[]).is_empty());
    }

    #[test]
    fn a_long_chain_in_reverse_request_order_runs_from_its_end() {
        let names: Vec<String> = (0..1000).map(|i| format!("b{i}")).collect();
        let needs: Vec<[&str; 1]> = (0..1000)
            .map(|i| [names.get(i + 1).map_or("end", String::as_str)])
            .collect();
        let ops: Vec<Node<'_>> = (0..1000).map(|i| post(&names[i], &needs[i])).collect();
        let expected: Vec<Step> = (0..1000).rev().map(Step::Run).collect();
        assert_eq!(order(&ops), expected);
    }

    /// The ordering scimd had before: the first operation not yet run whose bulkIds are all
    /// defined by operations that ran, again and again (quadratic, and the model).
    fn by_repeated_search(ops: &[Node<'_>]) -> Vec<Step> {
        let defines: HashMap<&str, usize> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.defines.map(|b| (b, i)))
            .collect();
        let deps = |i: usize| ops[i].needs.iter().filter_map(|b| defines.get(b).copied());
        let mut done = vec![false; ops.len()];
        let mut out = Vec::new();
        while let Some(i) = (0..ops.len()).find(|&i| !done[i] && deps(i).all(|j| j != i && done[j]))
        {
            done[i] = true;
            out.push(Step::Run(i));
        }
        out.extend((0..ops.len()).filter(|&i| !done[i]).map(Step::Circular));
        out
    }

    const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

    /// An operation: the bulkId it defines and those it names, as indexes into [`NAMES`].
    fn shape() -> impl Strategy<Value = (Option<usize>, BTreeSet<usize>)> {
        let name = 0..NAMES.len();
        (option::of(name.clone()), collection::btree_set(name, 0..4))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]

        #[test]
        fn the_order_is_the_one_of_the_repeated_search(shapes in collection::vec(shape(), 0..12)) {
            let needs: Vec<Vec<&str>> = shapes
                .iter()
                .map(|(_, named)| named.iter().map(|&n| NAMES[n]).collect())
                .collect();
            let ops: Vec<Node<'_>> = shapes
                .iter()
                .zip(&needs)
                .map(|((defines, _), needs)| Node { defines: defines.map(|d| NAMES[d]), needs })
                .collect();
            prop_assert_eq!(order(&ops), by_repeated_search(&ops));
        }
    }
}
