// The API documentation page: Swagger UI from the site's own files (no CDN, no inline script), so it
// works on an intranet and under a Content-Security-Policy without 'unsafe-inline'.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById('swagger-ui').dataset.spec,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
