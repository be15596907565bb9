//! `scimd tenant set --matching-attribute`, repeated for Entra's matching precedence, as
//! operators run it: the list set in order and shown by `tenant list`; an unknown name, the
//! same attribute twice, and a list whose values users share refused with a message and a
//! failing exit status, changing nothing.

use serde_json::json;

use scimd::domain::Precedence;
use scimd::scim::resource::ResourceId;
use scimd::scim::schema::ResourceKind;
use scimd::service::now;
use scimd::store::{Content, Resources, Tenants};

use super::events::Setup;
use crate::support::{Backend, open_store};

/// The rules `tenant list` shows for `acme`.
async fn acme(setup: &Setup) -> String {
    let listed = setup.ok(&["tenant", "list"]).await;
    listed
        .lines()
        .find(|l| l.contains("\tacme\t"))
        .unwrap_or_else(|| panic!("no acme in {listed}"))
        .to_owned()
}

async fn the_matching_precedence_is_set_in_order_shown_and_bad_lists_refused(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.ok(&["tenant", "create", "acme"]).await;
    let set = setup
        .ok(&[
            "tenant",
            "set",
            "acme",
            "--matching-attribute",
            "externalId",
            "--matching-attribute",
            "userName",
        ])
        .await;
    assert!(
        set.contains("tenant acme: matching externalId, userName; "),
        "{set}"
    );
    assert!(
        acme(&setup)
            .await
            .contains("\tmatching externalId, userName; ")
    );

    // two users of acme share a work e-mail
    let store = open_store(&setup.db.url).await;
    let tenant = store.tenant("acme").await.unwrap();
    for name in ["ada", "grace"] {
        let doc = json!({"userName": name, "externalId": name,
            "emails": [{"type": "work", "value": "same@acme.test"}]});
        let doc = doc.as_object().unwrap().clone();
        let write = Content {
            kind: ResourceKind::User,
            id: ResourceId::random(),
            doc: &doc,
            folded: &doc,
            now: now(),
            members: None,
            matching: tenant.policy.matching,
        };
        store.create(tenant.id, write.into()).await.unwrap();
    }
    let work = "emails[type eq \"work\"].value";
    let refusals: [(Vec<&str>, &str); 3] = [
        (
            vec!["--matching-attribute", "mail"],
            "'mail' is not a matching attribute",
        ),
        (
            vec![
                "--matching-attribute",
                "userName",
                "--matching-attribute",
                "USERNAME",
            ],
            "userName is listed twice",
        ),
        (
            vec![
                "--matching-attribute",
                "userName",
                "--matching-attribute",
                work,
            ],
            "users share values of emails[type eq \"work\"].value",
        ),
    ];
    for (flags, says) in refusals {
        let mut args = vec!["tenant", "set", "acme", "--require-role"];
        args.extend(flags);
        let out = setup.run(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        if says.starts_with("users share") {
            assert!(stderr.contains("ada, grace"), "{stderr}");
        }
    }
    // nothing changed, not even the rule given with the refused list
    let line = acme(&setup).await;
    assert!(line.contains("\tmatching externalId, userName; "), "{line}");
    assert!(!line.contains("role required"), "{line}");
    assert_eq!(
        store.tenant("acme").await.unwrap().policy.matching,
        Precedence::parse(&["externalId", "userName"]).unwrap()
    );
}

crate::on_both_stores!(the_matching_precedence_is_set_in_order_shown_and_bad_lists_refused);
