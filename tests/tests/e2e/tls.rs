//! The stores over TLS, with certificates made at test time: MySQL (MariaDB requiring secure
//! transport) through the URL's `ssl-mode` and `ssl-ca`, and Redis through `rediss://`, the
//! private authority trusted through `SSL_CERT_FILE`. Without the authority the server's
//! certificate is refused; without TLS the server refuses the wallet.

use std::time::Duration;

use wallet_e2e::tls::{TestCa, TlsMariaDb, TlsRedis};
use wallet_e2e::wallet::Wallet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_and_redis_over_tls() {
    let ca = TestCa::generate();
    let database = TlsMariaDb::start(&ca);
    let redis = TlsRedis::start(&ca);
    let ca_path = ca.ca().display().to_string();
    let verified = database.url(&format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca_path}"));

    let migrate = |url: &str| {
        let mut environment = vec![("WALLET__DATABASE__URL", url.to_owned())];
        environment.push(("WALLET__DATABASE__CONNECT_TIMEOUT_MS", "5000".to_owned()));
        Wallet::prepare(&environment).cli(&["migrate"])
    };
    let (code, output) = migrate(&verified);
    assert_eq!(code, Some(0), "{output}");
    let (code, output) = migrate(&database.url("ssl-mode=VERIFY_IDENTITY"));
    assert_ne!(
        code,
        Some(0),
        "a certificate of an unknown authority was accepted: {output}"
    );
    assert!(output.contains("UnknownIssuer"), "{output}");
    let (code, output) = migrate(&database.url("ssl-mode=DISABLED"));
    assert_ne!(
        code,
        Some(0),
        "the server took a connection without TLS: {output}"
    );

    let mut wallet = Wallet::start(&[
        ("WALLET__DATABASE__URL", verified.clone()),
        ("WALLET__KAFKA__BROKERS", "none".to_owned()),
        ("WALLET__PRICES__REDIS_URL", redis.url()),
        ("WALLET__PRICES__TIMEOUT_MS", "2000".to_owned()),
        ("SSL_CERT_FILE", ca_path.clone()),
    ]);
    wallet.wait_ready(Duration::from_secs(60)).await;
    let (_, ready) = wallet.get("/health/ready").await;
    assert_eq!(ready["checks"]["redis"], "ok", "{ready}\n{}", redis.log());
    assert_eq!(
        wallet
            .post("/api/v1/wallet/tls-investor/deposit?amount=12.34")
            .await
            .0,
        200
    );
    let (status, summary) = wallet.get("/api/v1/wallet/tls-investor/summary").await;
    assert_eq!((status, summary["balance"].as_str()), (200, Some("12.34")));
    wallet.signal("TERM");
    assert_eq!(
        wallet.wait_exit_within(Duration::from_secs(45)),
        Ok(Some(0))
    );

    // Without the authority the Redis certificate is refused: readiness names Redis.
    let mut untrusting = Wallet::start(&[
        ("WALLET__DATABASE__URL", verified),
        ("WALLET__KAFKA__BROKERS", "none".to_owned()),
        ("WALLET__PRICES__REDIS_URL", redis.url()),
        ("WALLET__PRICES__TIMEOUT_MS", "2000".to_owned()),
    ]);
    untrusting.wait_live(Duration::from_secs(60)).await;
    let (status, problem) = untrusting.get("/health/ready").await;
    assert_eq!(status, 503, "{problem}");
    let redis_check = problem["checks"]["redis"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(redis_check.contains("UnknownIssuer"), "{problem}");
}
