import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../config/app-config.js';
import { applyHttpSecurity } from '../logging/http-security.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { setupSwagger } from './setup-swagger.js';

const config = {
  publicUrl: 'https://integrations.example.test',
  docsPublic: true,
} as ResolvedAppConfig;

describe('setupSwagger with applyHttpSecurity', () => {
  let app: NestExpressApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [MetricsModule] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    applyHttpSecurity(app);
    document = setupSwagger(app, config);
    await app.init();
  });

  afterAll(() => app.close());

  it('points at the public server and marks guarded routes as needing the bearer token', () => {
    expect(document.servers).toEqual([{ url: config.publicUrl }]);
    expect(document.components?.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(document.paths['/metrics']?.get?.security).toEqual([{ bearer: [] }]);
  });

  it('serves the UI from local assets only, under a strict CSP', async () => {
    const page = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(page.headers['x-powered-by']).toBeUndefined();
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).not.toContain('upgrade-insecure-requests');
    // Every script and stylesheet the page loads is relative, hence same-origin.
    const refs = [...page.text.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(3);
    for (const ref of refs) expect(ref).not.toMatch(/^(https?:)?\/\//);
    expect(page.text).not.toMatch(/<script>[^<]/);

    for (const asset of [
      'swagger-ui-bundle.js',
      'swagger-ui-standalone-preset.js',
      'swagger-ui.css',
    ]) {
      await request(app.getHttpServer()).get(`/docs/${asset}`).expect(200);
    }
    const init = await request(app.getHttpServer()).get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('"persistAuthorization": true');
    expect(init.text).toContain('"validatorUrl": null');
  });

  it('serves that document at /docs/json', async () => {
    const json = await request(app.getHttpServer()).get('/docs/json').expect(200);
    expect(json.body).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('setupSwagger when the docs are not public', () => {
  const TOKEN = 'docs-token-0123456789abcdef';
  let app: NestExpressApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({}).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    setupSwagger(app, { ...config, docsPublic: false, internalApiTokens: [TOKEN] });
    await app.init();
  });

  afterAll(() => app.close());

  it('asks for the token on every docs page, as a bearer header or a browser login', async () => {
    const server = app.getHttpServer();
    for (const path of ['/docs', '/docs/json', '/docs/yaml', '/docs/swagger-ui-init.js']) {
      const refused = await request(server).get(path).expect(401);
      expect(refused.headers['www-authenticate']).toContain('Basic realm=');
      await request(server)
        .get(path)
        .set('authorization', 'Bearer wrong-token-0123456789')
        .expect(401);
      await request(server).get(path).set('authorization', `Bearer ${TOKEN}`).expect(200);
    }
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    await request(server).get('/docs').set('authorization', basic('me', TOKEN)).expect(200);
    await request(server).get('/docs').set('authorization', basic(TOKEN, '')).expect(401);
    // Nothing of the docs is served outside /docs.
    await request(server).get('/docs-yaml').set('authorization', `Bearer ${TOKEN}`).expect(404);
  });
});
