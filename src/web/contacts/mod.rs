//! The Contacts tab: the list, the Create/Modify panel, the details page, binding,
//! resending and cancelling verifications, and deleting.

mod bind;
mod delete;
mod detail;
mod form;
mod list;

use actix_web::{HttpRequest, web};

use crate::domain::ContactId;
use crate::web::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(list::routes).configure(form::routes).configure(detail::routes).configure(bind::routes).configure(delete::routes);
}

const PER_PAGE: i64 = 20;

fn contact_id(raw: &str) -> Result<ContactId, AppError> {
    ContactId::parse(raw).map_err(|_| AppError::NotFound(format!("There is no contact {raw}.")))
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}
