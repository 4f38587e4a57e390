//! The HTTP routes of SPEC §5 and the operations endpoints, one module per resource.
//!
//! Handlers are thin: parse the path and query into domain types (a bad one is a 400 with its
//! own code), check the caller's right, call the [`WalletUseCases`], shape the answer.

pub mod account;
pub mod balance;
pub mod cash;
pub mod corporate_actions;
pub mod health;
pub mod orders;
pub mod summary;
pub mod transactions;

#[cfg(test)]
mod properties;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;
use wallet_domain::{Account, Currency, OrderId, UserId};

use crate::http::problem::ApiError;
use wallet_domain::usecases::WalletUseCases;

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The use cases and queries.
    pub wallet: Arc<dyn WalletUseCases>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

impl ApiState {
    /// The account of `user`.
    ///
    /// # Errors
    /// [`ApiError::AccountNotFound`], or the store's failure.
    pub async fn existing_account(&self, user: &UserId) -> Result<Account, ApiError> {
        self.wallet
            .account(user)
            .await?
            .ok_or_else(|| ApiError::AccountNotFound(format!("account {user} does not exist")))
    }

    /// The currency of `user`'s amounts: the account's own, or the default one for an account
    /// that does not exist yet (a deposit opens it in that currency).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn currency_of(&self, user: &UserId) -> Result<Currency, ApiError> {
        Ok(self
            .wallet
            .account(user)
            .await?
            .map_or(self.wallet.default_currency(), |account| account.currency))
    }
}

/// Parses the `{userId}` path segment.
///
/// # Errors
/// [`ApiError::InvalidUserId`].
pub fn parse_user(text: &str) -> Result<UserId, ApiError> {
    UserId::parse(text).map_err(|error| ApiError::InvalidUserId(error.to_string()))
}

/// Parses the `{orderId}` path segment.
///
/// # Errors
/// [`ApiError::InvalidOrderId`].
pub fn parse_order(text: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(text).map_err(|error| ApiError::InvalidOrderId(error.to_string()))
}

/// The prefixes every wallet route is served under: ours, and the Java wallet's plural one,
/// which the broker's Order API (its Feign client of `summary`) and frontend call.
pub const WALLET_PREFIXES: [&str; 2] = ["/api/v1/wallet", "/api/v1/wallets"];

/// Registers the wallet routes under each of [`WALLET_PREFIXES`]. Each resource answers an
/// unknown method with 405 (rewritten to problem+json by the error middleware).
///
/// The user id is matched once, by the scope: a pattern with a parameter is a regex that the
/// router tries resource by resource, and with `/{userId}` in every resource a summary cost
/// three of them (a tenth of the service's CPU under load). Inside the scope the resources are
/// static paths.
pub fn configure_api(config: &mut web::ServiceConfig) {
    for prefix in WALLET_PREFIXES {
        config.service(wallet_scope(prefix));
    }
    config
        .service(
            web::resource("/api/v1/corporate-actions")
                .route(web::post().to(corporate_actions::receive)),
        )
        .service(
            web::resource("/api/v1/corporate-actions/{id}")
                .route(web::get().to(corporate_actions::status)),
        );
}

fn wallet_scope(prefix: &str) -> impl actix_web::dev::HttpServiceFactory + use<> {
    web::scope(&format!("{prefix}/{{userId}}"))
        // Balances are private and change with every order: no cache may keep them.
        .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
        .service(web::resource("/summary").route(web::get().to(summary::summary)))
        .service(web::resource("/positions").route(web::get().to(summary::positions)))
        .service(web::resource("/deposit").route(web::post().to(cash::deposit)))
        .service(web::resource("/withdraw").route(web::post().to(cash::withdraw)))
        .service(web::resource("/transactions").route(web::get().to(transactions::transactions)))
        .service(web::resource("/orders/{orderId}").route(web::get().to(orders::hold)))
        .service(web::resource("/balance").route(web::get().to(balance::balance_at)))
        .service(web::resource("").route(web::get().to(account::account)))
}
