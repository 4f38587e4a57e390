//! The OpenAPI 3.1 description, generated from the handlers' `#[utoipa::path]` annotations and
//! the response types, served at `/api-docs/openapi.json` with Swagger UI at `/swagger-ui/`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::dto::{
    AccountResponse, AmountRequest, BalanceAtResponse, CorporateActionResponse, HoldResponse,
    PositionResponse, ReceivableResponse, SettlementResponse, SummaryResponse, TransactionResponse,
};
use crate::http::problem::Problem;
use crate::http::routes;

/// Path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";
/// Where springdoc served the Java wallet's document; the same document here.
pub const JAVA_OPENAPI_PATH: &str = "/api-docs";

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
        routes::corporate_actions::receive,
        routes::corporate_actions::status,
        routes::health::live,
        routes::health::ready,
        routes::health::metrics,
        routes::health::actuator_health,
        routes::health::actuator_liveness,
    ),
    components(schemas(
        AccountResponse,
        AmountRequest,
        BalanceAtResponse,
        CorporateActionResponse,
        ReceivableResponse,
        HoldResponse,
        PositionResponse,
        SettlementResponse,
        SummaryResponse,
        TransactionResponse,
        Problem,
    )),
    modifiers(&BearerAuth, &JavaPrefix),
    tags(
        (name = "wallet", description = "Accounts, cash, positions, statement, order holds"),
        (name = "corporate actions", description = "Dividends, interest on equity, splits, reverse \
            splits and bonus shares (role wallet:admin)"),
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

/// Describes every wallet route under the Java wallet's plural prefix too (see
/// [`routes::WALLET_PREFIXES`]), as a copy whose operation ids end in `_plural`.
struct JavaPrefix;

impl Modify for JavaPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let [ours, java] = routes::WALLET_PREFIXES;
        let ours = format!("{ours}/");
        let copies: Vec<(String, utoipa::openapi::PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let rest = path.strip_prefix(&ours)?;
                let mut item = item.clone();
                for operation in [
                    &mut item.get,
                    &mut item.put,
                    &mut item.post,
                    &mut item.delete,
                    &mut item.patch,
                ]
                .into_iter()
                .flatten()
                {
                    operation.operation_id = operation
                        .operation_id
                        .as_ref()
                        .map(|id| format!("{id}_plural"));
                }
                Some((format!("{java}/{rest}"), item))
            })
            .collect();
        openapi.paths.paths.extend(copies);
    }
}
