// The API documentation page: Swagger UI over this instance's OpenAPI document.
(() => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // the public validator is another site: the CSP forbids it, and it is not needed
  });
})();
