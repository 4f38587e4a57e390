//! The OpenAPI 3.1 description, generated from the handlers' `#[utoipa::path]` annotations and
//! the response types, served at `/api-docs/openapi.json` with Swagger UI at `/swagger-ui/`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    AccountResponse, AmountRequest, BalanceAtResponse, HoldResponse, PositionResponse,
    SummaryResponse, TransactionPage, TransactionResponse,
};
use crate::problem::Problem;
use crate::routes;

/// Path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

/// The API description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Broker Wallet",
        description = "Custody of investors' cash and stock positions. Decimals are strings; \
                       errors are application/problem+json with a stable `code`."
    ),
    paths(
        routes::cash::deposit,
        routes::cash::withdraw,
        routes::account::account,
        routes::summary::summary,
        routes::summary::positions,
        routes::transactions::transactions,
        routes::orders::hold,
        routes::balance::balance_at,
        routes::health::live,
        routes::health::ready,
        routes::health::metrics,
    ),
    components(schemas(
        AccountResponse,
        AmountRequest,
        BalanceAtResponse,
        HoldResponse,
        PositionResponse,
        SummaryResponse,
        TransactionPage,
        TransactionResponse,
        Problem,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "wallet", description = "Accounts, cash, positions, statement, order holds"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the wallet routes refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
