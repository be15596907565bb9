//! The identity providers the setup page walks an admin through, each in its own words and
//! screen names: the steps to connect, and what to be doing while a step of the connection
//! waits. Sources: Microsoft's "Tutorial: Configure GoToMeeting for automatic user
//! provisioning" and "How Application Provisioning works in Microsoft Entra ID"; Okta's "SCIM
//! 2.0 protocol reference" and "Add SCIM provisioning to app integrations"; OneLogin's "SCIM
//! Provisioner with SAML (SCIM v2 Enterprise)"; JumpCloud's "Configure a custom SCIM
//! integration" (the book's "Other identity providers" chapter cites them with their URLs).

/// An identity provider the page knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// Its key in the page's URL (`?idp=okta`).
    pub key: &'static str,
    pub name: &'static str,
    /// The steps to connect it, in its own screen names.
    pub steps: &'static [&'static str],
    /// What to do while no request has come with the tenant's credentials.
    pub before_test: &'static str,
    /// What to do once connected, before the first user.
    pub before_first_user: &'static str,
    /// What happens while the first changes come in.
    pub during_first_cycle: &'static str,
    /// Where the provider shows what it did.
    pub logs: &'static str,
    /// The book's chapter for it, below the book's root.
    pub chapter: &'static str,
}

pub const ENTRA: Provider = Provider {
    key: "entra",
    name: "Microsoft Entra ID",
    steps: &[
        "In the Microsoft Entra admin center, go to Enterprise applications and add the \
         application (from the gallery, or New application > Create your own application > \
         Integrate any other application you don't find in the gallery).",
        "Open the application's Provisioning page and set Provisioning Mode to Automatic.",
        "Under Admin Credentials, either click Authorize and sign in as a team admin of the \
         application, or paste the Tenant URL and a Secret Token from this page.",
        "Click Test Connection. If it fails after Authorize, make sure the account you signed \
         in with has team admin rights.",
        "Under Mappings, review the attribute mappings for users and groups. The attributes \
         marked Match objects using this attribute are the matching attributes, tried in the \
         order of their Matching precedence (1 first): they must be the application's \
         matching attributes in that order, shown below the steps.",
        "Under Users and groups, assign the users and groups to provision, each with one of \
         the application's roles: users with Default Access are not provisioned.",
        "Back on Provisioning, set Provisioning Status to On, add a Notification Email (Entra \
         writes to it when the job is quarantined), and click Save.",
        "Entra runs the initial cycle, then one about every 40 minutes. Read Provisioning > \
         View provisioning details (Sync details) and the Provisioning logs.",
    ],
    before_test: "In Entra, set Provisioning Mode to Automatic, enter the Tenant URL and the \
                  Secret Token under Admin Credentials (or click Authorize), then click Test \
                  Connection. This step turns done as soon as Entra's test reaches the application.",
    before_first_user: "Entra is connected. Review the mappings, assign users and groups with a \
                        role under Users and groups, set Provisioning Status to On and click \
                        Save: the initial cycle starts within a few minutes.",
    during_first_cycle: "Entra's initial cycle is running. It ends when Entra has gone through \
                         every assigned user and group; the next cycles come about every 40 \
                         minutes.",
    logs: "Entra's Provisioning logs and Sync details",
    chapter: "admin/connecting.html",
};

pub const OKTA: Provider = Provider {
    key: "okta",
    name: "Okta",
    steps: &[
        "In the Okta Admin Console, open Applications > Applications and your app integration \
         (or Create App Integration, SAML 2.0 or OIDC). On its General tab, under App Settings, \
         select SCIM provisioning and click Save.",
        "On the Provisioning tab, under Integration, click Edit. SCIM connector base URL: the \
         Tenant URL. Unique identifier field for users: userName.",
        "Supported provisioning actions: Import New Users and Profile Updates, Push New Users, \
         Push Profile Updates, Push Groups.",
        "Authentication Mode: HTTP Header. Under Authorization, paste the Secret Token from \
         this page (Okta sends it as Bearer).",
        "Click Test Connector Configuration, then Save.",
        "Under Provisioning > To App, click Edit and enable Create Users, Update User \
         Attributes and Deactivate Users. Leave Sync Password off: the application keeps no \
         passwords.",
        "Assign people and groups on the Assignments tab, and push groups on the Push Groups \
         tab.",
    ],
    before_test: "In Okta, enter the Tenant URL as the SCIM connector base URL and the Secret \
                  Token under HTTP Header, then click Test Connector Configuration. This step \
                  turns done as soon as Okta's test reaches the application.",
    before_first_user: "Okta is connected. Enable Create Users, Update User Attributes and \
                        Deactivate Users under Provisioning > To App, then assign people on \
                        the Assignments tab.",
    during_first_cycle: "Okta is pushing the assigned people. Okta sends each change as it \
                         happens, with no cycles; this step turns done once it has been quiet \
                         for a while.",
    logs: "Okta's System Log (Reports > System Log) and the app's Provisioning tab",
    chapter: "admin/okta.html",
};

pub const ONELOGIN: Provider = Provider {
    key: "onelogin",
    name: "OneLogin",
    steps: &[
        "In OneLogin's administration, go to Applications > Add App and add the application, \
         or the \"SCIM Provisioner with SAML (SCIM v2 Enterprise)\" connector.",
        "On its Configuration tab, SCIM Base URL: the Tenant URL. SCIM Bearer Token: the Secret \
         Token from this page. Under API Connection, click Enable.",
        "On the Provisioning tab, check Enable provisioning, choose what happens when a user is \
         deleted or suspended, and click Save.",
        "On the Parameters tab, check that userName is mapped (to the email or the username).",
        "Assign users under Users (or by roles and rules); OneLogin then provisions them.",
    ],
    before_test: "In OneLogin, enter the Tenant URL as the SCIM Base URL and the Secret Token \
                  as the SCIM Bearer Token, then click Enable under API Connection. This step \
                  turns done as soon as OneLogin reaches the application.",
    before_first_user: "OneLogin is connected. Enable provisioning on the Provisioning tab and \
                        assign users.",
    during_first_cycle: "OneLogin is provisioning the assigned users, one request each.",
    logs: "OneLogin's Activity > Events and the Users tab's provisioning state",
    chapter: "admin/other-providers.html",
};

pub const JUMPCLOUD: Provider = Provider {
    key: "jumpcloud",
    name: "JumpCloud",
    steps: &[
        "In the JumpCloud Admin Portal, go to SSO Applications and add the application (a \
         custom application if it is not in the catalog).",
        "On its Identity Management tab, choose SCIM 2.0. Base URL: the Tenant URL. Token Key: \
         the Secret Token from this page (sent as Bearer).",
        "Click Test Connection, then Activate.",
        "On the User Groups tab, bind the groups whose users are to be provisioned, and save.",
    ],
    before_test: "In JumpCloud, enter the Tenant URL as the Base URL and the Secret Token as \
                  the Token Key, then click Test Connection. This step turns done as soon as \
                  JumpCloud's test reaches the application.",
    before_first_user: "JumpCloud is connected. Activate the integration and bind user groups \
                        to the application.",
    during_first_cycle: "JumpCloud is provisioning the users of the bound groups.",
    logs: "JumpCloud's Directory Insights",
    chapter: "admin/other-providers.html",
};

pub const OTHER: Provider = Provider {
    key: "other",
    name: "Another SCIM client",
    steps: &[
        "Point the SCIM client at the Tenant URL (its base URL: /Users, /Groups, /Bulk and the \
         discovery endpoints are below it).",
        "Send the Secret Token from this page in every request: Authorization: Bearer <token>.",
        "Test with a lookup, for example GET /Users?filter=userName eq \"nobody\": a list with \
         no result means the connection works.",
        "Create users with POST /Users and groups with POST /Groups (RFC 7644).",
    ],
    before_test: "Send a first request with the Secret Token. This step turns done as soon \
                  as it reaches the application.",
    before_first_user: "The client is connected. Create a first user with POST /Users.",
    during_first_cycle: "Changes are coming in.",
    logs: "the client's own log",
    chapter: "admin/other-providers.html",
};

/// Every provider, in the order the page offers them (Entra first, the default).
pub const ALL: [Provider; 5] = [ENTRA, OKTA, ONELOGIN, JUMPCLOUD, OTHER];

/// The provider of a page's `idp` parameter; Entra for none or an unknown one.
pub fn by_key(key: Option<&str>) -> Provider {
    ALL.into_iter()
        .find(|p| Some(p.key) == key)
        .unwrap_or(ENTRA)
}
