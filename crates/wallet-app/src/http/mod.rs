//! The HTTP side (SPEC §5): the actix-web server and its middleware ([`server`]), the routes,
//! the JSON shapes ([`dto`]), the RFC 7807 problems with their stable codes ([`problem`]), who
//! may call what ([`auth`]) and the OpenAPI description ([`openapi`]). Handlers parse input
//! into domain types and call `wallet_domain::usecases::WalletUseCases`; no rule lives here.

pub mod auth;
pub mod dto;
pub mod openapi;
pub mod problem;
pub mod routes;
pub(crate) mod server;
