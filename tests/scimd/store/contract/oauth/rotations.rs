//! Rotations of one refresh token at once: the database decides, one rotates and the others
//! find it used, and the family is revoked with the winner's new tokens.

use uuid::Uuid;

use scimd::domain::oauth::Rotation;
use scimd::service::hash_token;
use scimd::store::OAuthStore;

use super::super::{all_at_once, at};
use super::{MONTH, OAuth};
use crate::support::Backend;

/// Rotations of one refresh token at once (a client that retried, or a thief racing it): one
/// rotates, every other finds it used, and the family — the winner's new tokens included —
/// is revoked.
async fn rotations_of_one_token_at_once_rotate_once_and_revoke_the_family(backend: Backend) {
    let o = OAuth::new(backend).await;
    // rounds of two, three (the least that can deadlock on PostgreSQL) and eight
    for (round, n) in [2, 3, 8, 8, 8, 8].into_iter().enumerate() {
        let family = Uuid::new_v4();
        let old = format!("r-{round}");
        o.issue(&o.grant(family, Some(&o.ada), &format!("a-{round}"), Some(&old)))
            .await;
        let mut nexts = Vec::new();
        for i in 0..n {
            nexts.push(
                o.next(
                    &format!("a-{round}-{i}"),
                    &format!("r-{round}-{i}"),
                    at(90_000),
                )
                .await,
            );
        }
        let rotations = all_at_once(n, |i| {
            let (store, client, next) = (o.f.store.clone(), o.client.id, nexts[i].clone());
            let old = hash_token(&old);
            async move {
                let rotated = store.rotate_refresh(&old, client, &next, at(100), MONTH);
                rotated.await.unwrap()
            }
        })
        .await;
        let winners: Vec<usize> = (0..n)
            .filter(|i| rotations[*i] == Rotation::Rotated)
            .collect();
        assert_eq!(winners.len(), 1, "{rotations:?}");
        let reused = rotations.iter().filter(|r| **r == Rotation::Reused).count();
        assert_eq!(reused, n - 1, "{rotations:?}");
        let winner = winners[0];
        assert!(o.revoked(&format!("a-{round}")).await);
        for i in 0..n {
            let access = o.access(&format!("a-{round}-{i}")).await;
            let refresh = o.refresh(&format!("r-{round}-{i}")).await;
            if i == winner {
                assert!(access.unwrap().revoked);
                assert!(refresh.unwrap().revoked);
            } else {
                assert_eq!(
                    (access, refresh),
                    (None, None),
                    "the loser {i} stored tokens"
                );
            }
        }
        let old = o.refresh(&old).await.unwrap();
        assert!(old.used && old.revoked, "{old:?}");
    }
}

crate::on_both_stores!(rotations_of_one_token_at_once_rotate_once_and_revoke_the_family);
