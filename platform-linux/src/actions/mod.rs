//! (filled in by the host-service work)
