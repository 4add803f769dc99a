/* The route table: every URL jpkid answers. openapi.json documents the
 * ones marked api; tests/http checks the two agree (jpkid --routes). */
#include "jpkid.h"
#include "banned.h"

#define R JPKI_ROLE_COUNTER
#define S JPKI_ROLE_SUPERVISOR
#define A JPKI_ROLE_ADMIN

const struct route routes[] = {
    /* relying parties */
    {"POST", "/ocsp/{kind}", h_ocsp_post, 0, "ocsp", false},
    {"GET", "/ocsp/{kind}/*", h_ocsp_get, 0, "ocsp", false},
    {"GET", "/crl/{file}", h_crl_full, 0, "crl", false},
    {"GET", "/crl/{kind}/{file}", h_crl_shard, 0, "crl", false},
    {"GET", "/ca/{file}", h_ca_cert, 0, "ca", false},
    /* public API */
    {"GET", "/api/v1/openapi.json", h_openapi, 0, "api_public", true},
    {"GET", "/api/v1/guide", h_guide, 0, "api_public", true},
    {"GET", "/api/v1/renewal-window", h_window, 0, "api_public", true},
    {"GET", "/api/v1/cert-expiry", h_cert_expiry, 0, "api_public", true},
    {"GET", "/api/v1/card-expiry", h_card_expiry, 0, "api_public", true},
    {"GET", "/api/v1/bring", h_bring, 0, "api_public", true},
    {"GET", "/api/v1/office", h_office, 0, "api_public", true},
    {"GET", "/api/v1/office/open-days", h_open_days, 0, "api_public", true},
    {"GET", "/api/v1/holidays", h_holidays, 0, "api_public", true},
    {"GET", "/api/v1/wareki", h_wareki, 0, "api_public", true},
    {"GET", "/api/v1/reservable", h_reservable, 0, "api_public", true},
    /* staff */
    {"POST", "/api/v1/login", h_login, 0, "api_login", true},
    {"POST", "/api/v1/logout", h_logout, R, "api_staff", true},
    {"GET", "/api/v1/session", h_session, R, "api_staff", true},
    {"GET", "/api/v1/residents", h_search, R, "api_staff", true},
    {"GET", "/api/v1/residents/{id}", h_resident, R, "api_staff", true},
    {"POST", "/api/v1/residents/{id}/renew", h_renew, R, "api_renew", true},
    {"POST", "/api/v1/residents/{id}/pin-reset", h_pin_reset, R, "api_staff", true},
    {"POST", "/api/v1/residents/{id}/events", h_events, S, "api_staff", true},
    {"POST", "/api/v1/certificates/{serial}/revoke", h_revoke, S, "api_staff", true},
    {"GET", "/api/v1/stats/expiring", h_stats_expiring, R, "api_staff", true},
    {"GET", "/api/v1/staff", h_staff_list, A, "api_admin", true},
    {"POST", "/api/v1/staff", h_staff_add, A, "api_admin", true},
    {"POST", "/api/v1/staff/{user}/disable", h_staff_disable, A, "api_admin", true},
    {"POST", "/api/v1/crl/publish", h_crl_publish, A, "api_admin", true},
    {"POST", "/api/v1/ocsp/refresh", h_ocsp_refresh, A, "api_admin", true},
    {"GET", "/api/v1/notices/status", h_notice_status, S, "api_staff", true},
    {"POST", "/api/v1/notices/runs", h_notice_run, A, "api_admin", true},
    {"GET", "/api/v1/notices/runs/{id}", h_notice_run_get, S, "api_staff", true},
    {"GET", "/api/v1/notices/runs/{id}/files/{file}", h_notice_file, A, "api_admin",
     true},
    {"POST", "/api/v1/notices/suspend", h_notice_suspend, A, "api_admin", true},
    {"POST", "/api/v1/notices/resume", h_notice_resume, A, "api_admin", true},
    /* operations */
    {"GET", "/healthz", h_healthz, 0, "healthz", true},
    {"GET", "/metrics", h_metrics, 0, "metrics", true},
    /* pages: last, it takes every other GET */
    {"GET", "/*", h_static, 0, "static", false},
    {"GET", "/", h_static, 0, "static", false},
};
const size_t n_routes = sizeof routes / sizeof routes[0];
