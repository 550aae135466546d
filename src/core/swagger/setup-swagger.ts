import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { ResolvedAppConfig } from '../config/app-config.js';

export const API_VERSION = '0.1.0';
export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs/json';

const DESCRIPTION = [
  'Connects Google Calendar, Trello, Jira Cloud and Slack accounts to PDeck through OAuth,',
  'receives provider webhooks and runs full and incremental syncs that keep PDeck items current.',
  'Internal endpoints require a bearer token from INTERNAL_API_TOKENS; OAuth callbacks,',
  'webhooks and health probes are public.',
].join(' ');

/**
 * Builds the OpenAPI document and serves Swagger UI at /docs and the JSON at /docs/json.
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
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    swaggerOptions: {
      // Keeps the pasted bearer token across page reloads (browser localStorage only).
      persistAuthorization: true,
      // No call to validator.swagger.io: the docs must work offline and leak nothing.
      validatorUrl: null,
    },
  });
  return document;
}
