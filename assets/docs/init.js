// Starts the API reference at /docs on vakt's own OpenAPI document. A separate file (not an
// inline script), so the page runs under `script-src 'self'`.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // The default posts the document to validator.swagger.io; vakt's page makes no outside call.
  validatorUrl: null,
});
