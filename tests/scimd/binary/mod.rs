//! The `scimd` binary as operators run it: started as a process on port 0 (its address read
//! from the `listening on` line it prints), talked to over a real socket, killed.

mod acme;
mod acme_http01;
mod acme_renewal;
mod admin_invite;
mod alerts_acceptance;
mod alerts_cli;
mod browser;
mod cli;
mod console_browser;
mod deleted_browser;
mod durability;
mod events;
mod first_start;
mod health_cli;
mod hostile;
mod https;
mod invitation_browser;
mod limits_cli;
mod matching_cli;
mod operator_account_cli;
mod operator_browser;
mod operator_cli;
mod receiver_example;
mod retained_cli;
mod schemas;
mod setup_browser;
mod setup_link_cli;
mod sign_in_flood;
mod slow_clients;
