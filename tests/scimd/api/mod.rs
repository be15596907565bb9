//! The SCIM API over HTTP, driven through the router (`oneshot`), area by area.

mod activity;
mod auth;
mod bootstrap;
mod bulk;
mod concurrency;
mod console;
mod console_events;
mod discovery;
mod errors;
mod events;
mod faults;
mod fuzz;
mod group_limits;
mod groups;
mod guard;
mod hostile;
mod journeys;
mod membership;
mod metrics;
pub mod oauth;
mod ops;
mod pages;
mod patch;
mod policies;
mod preconditions;
mod query;
mod users;
