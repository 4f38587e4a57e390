//! Authentication and authorization of the HTTP API (SPEC §5 "Auth").
//!
//! With `auth.mode = "jwt"` every `/api` request carries `Authorization: Bearer <token>`,
//! verified with the HS256 secret or the RS256 public key of the configuration; `sub` is the
//! caller's userId and the `roles` claim lists its roles. The rules:
//!
//! - a user may read and withdraw from their own wallet only;
//! - a deposit needs the role `wallet:deposit` (the payments service), and nobody credits
//!   their own wallet, even with that role;
//! - the role `wallet:admin` may do everything on any wallet.
//!
//! A missing, malformed, forged or expired token, one used before its `nbf`, or one whose `iss`
//! or `aud` is not the configured `auth.jwt_issuer` / `auth.jwt_audience` is 401; a valid token
//! without the right is 403. With `auth.mode = "none"` every caller may do everything (local use).

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use wallet_domain::UserId;

use crate::config::{AuthMode, AuthSettings, JwtKey};
use crate::http::problem::ApiError;

/// Role of the payments service: may deposit into any wallet.
pub const ROLE_DEPOSIT: &str = "wallet:deposit";
/// Role of operators: may do everything on any wallet.
pub const ROLE_ADMIN: &str = "wallet:admin";

/// Verifies tokens; shared by every worker.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Option<Arc<(DecodingKey, Validation)>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Authenticator")
            .field("jwt", &self.verifier.is_some())
            .finish()
    }
}

/// Claims the wallet reads from a token.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
}

impl Authenticator {
    /// An authenticator for `settings`.
    ///
    /// # Errors
    /// A message when the RS256 key is not a PEM RSA public key (the configuration check
    /// refuses it first).
    pub fn new(settings: &AuthSettings) -> Result<Self, String> {
        let verifier = match &settings.mode {
            AuthMode::None => None,
            AuthMode::Jwt(key) => {
                let (key, algorithm) = match key {
                    JwtKey::Hs256(secret) => (
                        DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                        Algorithm::HS256,
                    ),
                    JwtKey::Rs256(pem) => (
                        DecodingKey::from_rsa_pem(pem.as_bytes())
                            .map_err(|error| format!("auth.jwt_rs256_public_key_pem: {error}"))?,
                        Algorithm::RS256,
                    ),
                };
                let mut validation = Validation::new(algorithm);
                // `exp` and `sub` are mandatory: a token that never expires or names nobody
                // is refused.
                let mut required = vec!["exp", "sub"];
                validation.validate_nbf = true;
                validation.leeway = 5;
                // Identity providers put `aud` in every token; without a configured audience
                // it is not checked (jsonwebtoken would refuse every token that has one).
                // A configured issuer or audience is also required to be present.
                match &settings.audience {
                    Some(audience) => {
                        validation.set_audience(&[audience]);
                        required.push("aud");
                    }
                    None => validation.validate_aud = false,
                }
                if let Some(issuer) = &settings.issuer {
                    validation.set_issuer(&[issuer]);
                    required.push("iss");
                }
                validation.set_required_spec_claims(&required);
                Some(Arc::new((key, validation)))
            }
        };
        Ok(Authenticator { verifier })
    }

    /// Who sent `request`.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing, malformed, forged or expired token.
    pub fn caller(&self, request: &HttpRequest) -> Result<Caller, ApiError> {
        let Some(verifier) = &self.verifier else {
            return Ok(Caller::Anyone);
        };
        let header_value = request
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".to_owned()))?;
        let token = header_value
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let (key, validation) = verifier.as_ref();
        let claims = decode::<Claims>(token, key, validation)
            .map_err(|error| ApiError::Unauthorized(format!("invalid token: {error}")))?
            .claims;
        let user = UserId::parse(&claims.sub)
            .map_err(|_| ApiError::Unauthorized("the token's sub is not a valid user id".into()))?;
        Ok(Caller::User {
            user,
            deposit: claims.roles.iter().any(|role| role == ROLE_DEPOSIT),
            admin: claims.roles.iter().any(|role| role == ROLE_ADMIN),
        })
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// `auth.mode = "none"`: no identity, every right.
    Anyone,
    /// A verified token.
    User {
        /// `sub`.
        user: UserId,
        /// Holds `wallet:deposit`.
        deposit: bool,
        /// Holds `wallet:admin`.
        admin: bool,
    },
}

impl Caller {
    /// May administer the wallet as a whole (corporate actions): an admin.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn may_administer(&self) -> Result<(), ApiError> {
        match self {
            Caller::Anyone | Caller::User { admin: true, .. } => Ok(()),
            Caller::User { .. } => Err(ApiError::Forbidden(format!(
                "corporate actions need the role {ROLE_ADMIN}"
            ))),
        }
    }

    /// May read `owner`'s wallet (and withdraw from it): the owner or an admin.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn may_access(&self, owner: &UserId) -> Result<(), ApiError> {
        match self {
            Caller::Anyone | Caller::User { admin: true, .. } => Ok(()),
            Caller::User { user, .. } if user == owner => Ok(()),
            Caller::User { .. } => Err(ApiError::Forbidden(format!(
                "the token may not act on the wallet of {owner}"
            ))),
        }
    }

    /// May deposit into `owner`'s wallet: the payments service (role `wallet:deposit`) into
    /// anyone's but its own, or an admin. Nobody without `wallet:admin` credits their own
    /// wallet, even holding the deposit role.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn may_deposit(&self, owner: &UserId) -> Result<(), ApiError> {
        match self {
            Caller::Anyone | Caller::User { admin: true, .. } => Ok(()),
            Caller::User {
                user,
                deposit: true,
                ..
            } if user != owner => Ok(()),
            Caller::User { deposit: true, .. } => Err(ApiError::Forbidden(format!(
                "depositing into one's own wallet ({owner}) needs the role {ROLE_ADMIN}"
            ))),
            Caller::User { .. } => Err(ApiError::Forbidden(format!(
                "depositing into the wallet of {owner} needs the role {ROLE_DEPOSIT}"
            ))),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match request.app_data::<web::Data<Authenticator>>() {
            Some(authenticator) => authenticator.caller(request),
            None => Err(ApiError::Internal(
                "the authenticator is not registered".into(),
            )),
        };
        ready(result)
    }
}
