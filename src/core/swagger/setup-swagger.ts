import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import type { ResolvedAppConfig } from '../config/app-config.js';
import { bearerToken, TokenSet } from '../security/internal-api.guard.js';

export const API_VERSION = '0.1.0';
export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs/json';
/** Under /docs too (the library's default is /docs-yaml), so one prefix covers every docs page. */
export const DOCS_YAML_PATH = 'docs/yaml';

const DESCRIPTION = [
  'Connects Google Calendar and Trello accounts (Jira Cloud and Slack planned) to PDeck through OAuth,',
  'receives provider webhooks and runs full and incremental syncs that keep PDeck items current.',
  'Internal endpoints require a bearer token from INTERNAL_API_TOKENS; OAuth callbacks,',
  'webhooks and health probes are public. In production these docs need the token as well',
  '(unless DOCS_PUBLIC=true).',
].join(' ');

/**
 * Swagger UI's defaults fail WCAG AA where it shows white text on light badges (HTTP methods,
 * version stamps: about 2.5:1). Darker badges reach 4.5:1. The servers dropdown offers a single
 * entry (PUBLIC_URL) and has no label, so it is hidden; the Authorize button beside it stays.
 */
const ACCESSIBLE_CSS = [
  '.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #0b5394 !important; }',
  '.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #0b6e3f !important; }',
  '.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4a00 !important; }',
  '.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0f6b5c !important; }',
  '.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b0211a !important; }',
  '.swagger-ui .opblock.opblock-head .opblock-summary-method { background: #5b1a99 !important; }',
  '.swagger-ui .info .title small { background: #44505e !important; }',
  '.swagger-ui .info .title small.version-stamp { background: #3b6e00 !important; }',
  '.swagger-ui .btn.authorize { color: #0b6e3f !important; border-color: #0b6e3f !important; }',
  '.swagger-ui .btn.authorize svg { fill: #0b6e3f !important; }',
  '.swagger-ui .scheme-container .servers-title, .swagger-ui .scheme-container .servers { display: none; }',
].join('\n');

/**
 * Builds the OpenAPI document and serves Swagger UI at /docs, the JSON at /docs/json and the YAML
 * at /docs/yaml; unless `docsPublic`, all of them only with one of INTERNAL_API_TOKENS.
 * @nestjs/swagger serves the UI's scripts, styles and icons from the installed swagger-ui-dist
 * package (express.static) and the init script from a route of its own, so the page loads
 * nothing from a CDN and works under the `script-src 'self'` of applyHttpSecurity.
 */
export function setupSwagger(app: INestApplication, config: ResolvedAppConfig): OpenAPIObject {
  const documentConfig = new DocumentBuilder()
    .setTitle('PDeck Integrations')
    .setDescription(DESCRIPTION)
    .setVersion(API_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of INTERNAL_API_TOKENS' })
    .addServer(config.publicUrl)
    .build();
  const document = SwaggerModule.createDocument(app, documentConfig);
  // Registered before the docs' own routes and static files, so it runs first for all of them.
  if (!config.docsPublic) app.use(`/${DOCS_PATH}`, docsAccess(config.internalApiTokens));
  SwaggerModule.setup(DOCS_PATH, app, document, {
    customSiteTitle: 'PDeck Integrations API',
    customCss: ACCESSIBLE_CSS,
    jsonDocumentUrl: DOCS_JSON_PATH,
    yamlDocumentUrl: DOCS_YAML_PATH,
    swaggerOptions: {
      // Keeps the pasted bearer token across page reloads (browser localStorage only).
      persistAuthorization: true,
      // No call to validator.swagger.io: the docs must work offline and leak nothing.
      validatorUrl: null,
    },
  });
  return document;
}

/**
 * The docs outside development: `Authorization: Bearer <token>` (curl, scripts, a header
 * extension), or HTTP Basic with the token as the password (any user name), which is what a
 * browser sends after it asks for credentials on the 401's Basic challenge. The bearer guard of
 * the API itself still accepts only Bearer.
 */
export function docsAccess(tokens: readonly string[]) {
  const known = new TokenSet(tokens);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization;
    if (known.matches(bearerToken(header) ?? basicPassword(header))) return next();
    res
      .status(401)
      .set('cache-control', 'no-store')
      .append('www-authenticate', 'Bearer realm="PDeck Integrations API docs"')
      .append('www-authenticate', 'Basic realm="PDeck Integrations API docs", charset="UTF-8"')
      .json({ statusCode: 401, message: 'A valid internal API bearer token is required' });
  };
}

function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
}
