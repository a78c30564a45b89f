//! What every protected resource shares: the token verifier its routes check against, and its
//! RFC 9728 metadata document.

use actix_web::{HttpResponse, web};

use crate::{ProtectedResourceMetadata, Verifier, VerifierSettings};

#[derive(Clone)]
pub struct ResourceServer {
    verifier: web::Data<Verifier>,
    metadata: web::Data<ProtectedResourceMetadata>,
}

impl ResourceServer {
    /// Builds the verifier and starts fetching the issuer's keys in the background (call it
    /// inside a Tokio runtime). `default_resource` is the public URL when `settings.resource`
    /// is unset; `scopes` are the scopes this resource understands.
    pub fn start(
        mut settings: VerifierSettings,
        default_resource: &str,
        scopes: &[&str],
    ) -> Result<Self, reqwest::Error> {
        let resource = settings
            .resource
            .clone()
            .unwrap_or_else(|| default_resource.to_owned());
        let metadata = web::Data::new(ProtectedResourceMetadata::new(&settings, &resource, scopes));
        // Tokens must name this resource in `aud` (RFC 9068 §4), unless others are configured.
        settings.resource = Some(resource);
        let verifier = web::Data::new(Verifier::new(settings)?);
        verifier.start();
        Ok(Self { verifier, metadata })
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Makes the verifier available to `require_scope` and the handlers of `cfg`'s routes, and
    /// serves the metadata at `/.well-known/oauth-protected-resource` under `cfg`'s path.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.verifier.clone())
            .app_data(self.metadata.clone())
            .route(
                "/.well-known/oauth-protected-resource",
                web::get().to(metadata),
            );
    }
}

async fn metadata(doc: web::Data<ProtectedResourceMetadata>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}
