//! The auth matrix of SPEC §5 in `jwt` mode: who may read, withdraw and deposit, and how a
//! missing, malformed, forged or expired token is refused.

use chrono::Utc;
use jsonwebtoken::{EncodingKey, Header, encode};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use wallet_app::config::{AuthMode, JwtKey};

use crate::helpers::{TestApp, assert_problem, json_with, spawn_app_with};

const SECRET: &str = "test-secret-of-at-least-32-bytes!!";

async fn jwt_app() -> TestApp {
    spawn_app_with(|settings| {
        settings.auth.mode = AuthMode::Jwt(JwtKey::Hs256(SecretString::from(SECRET)));
    })
    .await
}

/// A token for `sub` with `roles`, valid for an hour, signed with `secret`.
fn token_signed(secret: &str, sub: &str, roles: &[&str], expires_in_seconds: i64) -> String {
    let claims = json!({
        "sub": sub,
        "roles": roles,
        "exp": Utc::now().timestamp() + expires_in_seconds,
        "iat": Utc::now().timestamp(),
    });
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn token(sub: &str, roles: &[&str]) -> String {
    token_signed(SECRET, sub, roles, 3600)
}

async fn call(app: &TestApp, method: &str, path: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = match method {
        "POST" => app.client.post(app.url(path)),
        _ => app.client.get(app.url(path)),
    };
    if let Some(bearer) = bearer {
        request = request.header("Authorization", bearer);
    }
    request.send().await.unwrap()
}

/// The payments service (role wallet:deposit) deposits; the owner reads and withdraws their
/// own wallet.
#[tokio::test]
async fn owners_and_the_payments_service_do_their_part() {
    let app = jwt_app().await;
    let payments = format!("Bearer {}", token("payments-service", &["wallet:deposit"]));
    let alice = format!("Bearer {}", token("alice", &[]));
    let response = call(
        &app,
        "POST",
        "/api/v1/wallet/alice/deposit?amount=100",
        Some(&payments),
    )
    .await;
    assert_eq!(
        json_with(response, StatusCode::OK).await["balance"],
        "100.00"
    );
    let response = call(&app, "GET", "/api/v1/wallet/alice", Some(&alice)).await;
    assert_eq!(
        json_with(response, StatusCode::OK).await["balance"],
        "100.00"
    );
    let response = call(&app, "GET", "/api/v1/wallet/alice/summary", Some(&alice)).await;
    json_with(response, StatusCode::OK).await;
    let response = call(
        &app,
        "POST",
        "/api/v1/wallet/alice/withdraw?amount=40",
        Some(&alice),
    )
    .await;
    assert_eq!(
        json_with(response, StatusCode::OK).await["balance"],
        "60.00"
    );
}

/// No token, a malformed one, a forged signature, an expired token, or a token without `sub`
/// are all 401 UNAUTHORIZED with a WWW-Authenticate challenge.
#[tokio::test]
async fn bad_tokens_are_unauthorized() {
    let app = jwt_app().await;
    let no_sub = encode(
        &Header::default(),
        &json!({"exp": Utc::now().timestamp() + 3600, "roles": ["wallet:admin"]}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let cases = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer not.a.token".to_owned()),
        Some("Basic YWxpY2U6cGFzcw==".to_owned()),
        Some(format!(
            "Bearer {}",
            token_signed(
                "another-secret-entirely-32-bytes",
                "alice",
                &["wallet:admin"],
                3600
            )
        )),
        Some(format!(
            "Bearer {}",
            token_signed(SECRET, "alice", &[], -3600)
        )),
        Some(format!("Bearer {no_sub}")),
    ];
    for bearer in cases {
        for (method, path) in [
            ("GET", "/api/v1/wallet/alice"),
            ("POST", "/api/v1/wallet/alice/deposit?amount=1"),
        ] {
            let response = call(&app, method, path, bearer.as_deref()).await;
            assert!(response.headers().contains_key("www-authenticate"));
            assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
        }
    }
}

fn token_with(claims: serde_json::Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// `nbf` is honoured; an `aud` is accepted while no audience is configured (identity providers
/// put one in every token), and `iss` / `aud` are checked once `auth.jwt_issuer` /
/// `auth.jwt_audience` are set.
#[tokio::test]
async fn registered_claims_are_checked() {
    let now = Utc::now().timestamp();
    let claims = |extra: serde_json::Value| {
        let mut claims = json!({"sub": "alice", "exp": now + 3600});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        format!("Bearer {}", token_with(claims))
    };
    let app = jwt_app().await;
    let path = "/api/v1/wallet/alice/balance?at=2026-01-01T00:00:00Z";
    let not_yet = call(&app, "GET", path, Some(&claims(json!({"nbf": now + 600})))).await;
    assert_problem(not_yet, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    let with_audience = claims(json!({"aud": "some-api", "iss": "https://id.example/"}));
    let response = call(&app, "GET", path, Some(&with_audience)).await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;

    let strict = spawn_app_with(|settings| {
        settings.auth.mode = AuthMode::Jwt(JwtKey::Hs256(SecretString::from(SECRET)));
        settings.auth.issuer = Some("https://id.example/".to_owned());
        settings.auth.audience = Some("broker-wallet".to_owned());
    })
    .await;
    let right = claims(json!({"aud": ["x", "broker-wallet"], "iss": "https://id.example/"}));
    let response = call(&strict, "GET", path, Some(&right)).await;
    assert_problem(response, StatusCode::NOT_FOUND, "ACCOUNT_NOT_FOUND").await;
    for wrong in [
        claims(json!({"aud": "some-api", "iss": "https://id.example/"})),
        claims(json!({"aud": "broker-wallet", "iss": "https://evil.example/"})),
        claims(json!({"aud": "broker-wallet"})),
        claims(json!({"iss": "https://id.example/"})),
    ] {
        let response = call(&strict, "GET", path, Some(&wrong)).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    }
}

/// A user may not read or withdraw from another user's wallet, nor deposit into their own.
#[tokio::test]
async fn users_are_confined_to_their_own_wallet() {
    let app = jwt_app().await;
    let admin = format!("Bearer {}", token("ops", &["wallet:admin"]));
    call(
        &app,
        "POST",
        "/api/v1/wallet/bob/deposit?amount=10",
        Some(&admin),
    )
    .await;
    let alice = format!("Bearer {}", token("alice", &["some:other-role"]));
    for (method, path) in [
        ("GET", "/api/v1/wallet/bob"),
        ("GET", "/api/v1/wallet/bob/summary"),
        ("GET", "/api/v1/wallet/bob/positions"),
        ("GET", "/api/v1/wallet/bob/transactions"),
        ("GET", "/api/v1/wallet/bob/orders/1"),
        ("GET", "/api/v1/wallet/bob/balance?at=2026-05-01T00:00:00Z"),
        ("POST", "/api/v1/wallet/bob/withdraw?amount=1"),
        ("POST", "/api/v1/wallet/bob/deposit?amount=1"),
        // Self-deposit without the role.
        ("POST", "/api/v1/wallet/alice/deposit?amount=1"),
    ] {
        let response = call(&app, method, path, Some(&alice)).await;
        assert_problem(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    }
    let response = call(&app, "GET", "/api/v1/wallet/bob", Some(&admin)).await;
    assert_eq!(
        json_with(response, StatusCode::OK).await["balance"],
        "10.00"
    );
}

/// wallet:admin acts on any wallet: deposit, read, withdraw.
#[tokio::test]
async fn admins_act_on_any_wallet() {
    let app = jwt_app().await;
    let admin = format!("Bearer {}", token("ops", &["wallet:admin"]));
    let response = call(
        &app,
        "POST",
        "/api/v1/wallet/carol/deposit?amount=5",
        Some(&admin),
    )
    .await;
    assert_eq!(json_with(response, StatusCode::OK).await["balance"], "5.00");
    let response = call(
        &app,
        "POST",
        "/api/v1/wallet/carol/withdraw?amount=2",
        Some(&admin),
    )
    .await;
    assert_eq!(json_with(response, StatusCode::OK).await["balance"], "3.00");
    let response = call(
        &app,
        "GET",
        "/api/v1/wallet/carol/transactions",
        Some(&admin),
    )
    .await;
    assert_eq!(
        json_with(response, StatusCode::OK)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The payments role deposits but does not read.
    let payments = format!("Bearer {}", token("payments-service", &["wallet:deposit"]));
    let response = call(&app, "GET", "/api/v1/wallet/carol", Some(&payments)).await;
    assert_problem(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
}

/// Operations endpoints stay open in jwt mode: probes and scrapers carry no token.
#[tokio::test]
async fn operations_endpoints_need_no_token() {
    let app = jwt_app().await;
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api-docs/openapi.json",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
}

/// A key pair made for these tests only (`openssl genrsa 2048`); it protects nothing.
const RS256_PRIVATE_PEM: &str = include_str!("keys/rs256-test-private.pem");
const RS256_PUBLIC_PEM: &str = include_str!("keys/rs256-test-public.pem");

/// With an RS256 public key, tokens signed by the private key pass; a token signed HS256
/// with the public key as the secret (the algorithm-confusion attack) is refused.
#[tokio::test]
async fn rs256_tokens_are_verified_with_the_public_key() {
    let app = spawn_app_with(|settings| {
        settings.auth.mode = AuthMode::Jwt(JwtKey::Rs256(RS256_PUBLIC_PEM.to_owned()));
    })
    .await;
    let claims = json!({
        "sub": "ops",
        "roles": ["wallet:admin"],
        "exp": Utc::now().timestamp() + 3600,
    });
    let signed = encode(
        &Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(RS256_PRIVATE_PEM.as_bytes()).unwrap(),
    )
    .unwrap();
    let response = call(
        &app,
        "POST",
        "/api/v1/wallet/dave/deposit?amount=7",
        Some(&format!("Bearer {signed}")),
    )
    .await;
    assert_eq!(json_with(response, StatusCode::OK).await["balance"], "7.00");

    let confused = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(RS256_PUBLIC_PEM.as_bytes()),
    )
    .unwrap();
    let response = call(
        &app,
        "GET",
        "/api/v1/wallet/dave",
        Some(&format!("Bearer {confused}")),
    )
    .await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
}
