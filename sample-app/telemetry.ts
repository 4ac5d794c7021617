/**
 * METRICS_PROVIDER=opentelemetry: the module's instruments go to OpenTelemetry's global
 * MeterProvider, exported for Prometheus by the OTel Prometheus exporter on its own port
 * (OTEL_METRICS_PORT, default 9464), as a team on OpenTelemetry would run it. The SDK is
 * loaded only then.
 */
export async function startOpenTelemetryMetrics(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (process.env.METRICS_PROVIDER !== 'opentelemetry') return undefined;
  const { metrics } = await import('@opentelemetry/api');
  const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
  const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
  const port = Number(process.env.OTEL_METRICS_PORT ?? 9464);
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  await exporter.startServer();
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  return { url: `http://127.0.0.1:${port}/metrics`, stop: () => provider.shutdown() };
}
