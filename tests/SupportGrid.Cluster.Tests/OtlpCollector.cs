using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SupportGrid.Cluster.Tests;

/// <summary>A trace as exported: the span it was looked up by and every span with its trace id.</summary>
public sealed record ExportedTrace(ExportedSpan Root, IReadOnlyList<ExportedSpan> Spans)
{
    /// <summary>Whether <paramref name="span"/> is <see cref="Root"/> or under it, following parent span ids (across
    /// processes: a grain call's span on the callee has the caller's span as its parent).</summary>
    public bool Descends(ExportedSpan span)
    {
        var byId = Spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        for (var current = span; current is not null; current = byId.GetValueOrDefault(current.ParentSpanId))
        {
            if (current.SpanId == Root.SpanId)
                return true;
            if (current.ParentSpanId.Length == 0)
                return false;
        }
        return false;
    }
}

/// <summary>One span as exported over OTLP: which process sent it (<c>service.name</c>), its ids and name.</summary>
public sealed record ExportedSpan(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind);

/// <summary>
/// A minimal OTLP/HTTP collector on 127.0.0.1 for the processes under test (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>,
/// protocol <c>http/protobuf</c>): it answers every signal and keeps the spans of <c>/v1/traces</c>. The messages are
/// read field by field with Google.Protobuf's <see cref="CodedInputStream"/> along the OTLP schema
/// (opentelemetry-proto: ExportTraceServiceRequest > ResourceSpans > ScopeSpans > Span), so no generated code is needed.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<ExportedSpan> Spans { get; } = new();

    public Uri Endpoint { get; }

    private OtlpCollector(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = LocalCluster.FreePort();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var collector = new OtlpCollector(app, new Uri($"http://127.0.0.1:{port}"));
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in ReadTraces(body.ToArray()))
                collector.Spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf"); // an empty ExportTraceServiceResponse: all accepted
        });
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return collector;
    }

    /// <summary>The settings that point a process's OTLP exporter here, exporting every 200 ms.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>OTLP's SpanKind for a span that handles a call (a hub invocation, a grain call on the callee's side).</summary>
    public const int ServerKind = 2;

    /// <summary>
    /// Waits (up to 30 s) until a span named <paramref name="root"/> has been exported together with, for every name in
    /// <paramref name="names"/>, a span of that name handling the call (server kind) with every span between it and the
    /// root (processes export in batches of their own, so a trace arrives in pieces); returns that trace.
    /// </summary>
    public async Task<ExportedTrace> WaitForTraceAsync(string root, params string[] names)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var spans = Spans.ToArray();
            foreach (var top in spans.Where(s => s.Name == root))
            {
                var trace = new ExportedTrace(top, spans.Where(s => s.TraceId == top.TraceId).ToList());
                if (names.All(name => trace.Spans.Any(s => s.Name == name && s.Kind == ServerKind && trace.Descends(s))))
                    return trace;
            }
            if (DateTime.UtcNow > deadline)
            {
                var seen = string.Join("\n", spans.Where(s => s.Name == root || names.Contains(s.Name)).Select(s => $"{s.TraceId} {s.Service} {s.Name}"));
                throw new TimeoutException($"No trace of {root} with {string.Join(", ", names)} was exported; spans of those names:\n{seen}");
            }
            await Task.Delay(100); // polling what the processes export every 200 ms
        }
    }

    /// <summary>ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }</summary>
    public static IEnumerable<ExportedSpan> ReadTraces(byte[] request)
    {
        var spans = new List<ExportedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1)
                continue;
            // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
            var service = "";
            var scopes = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                    service = ServiceName(value);
                else if (f == 2)
                    scopes.Add(value);
            }
            foreach (var scopeSpans in scopes)
            {
                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
                var scope = "";
                foreach (var (f, value) in Fields(scopeSpans))
                {
                    if (f == 1)
                        scope = Fields(value).Where(s => s.Field == 1).Select(s => Text(s.Value)).FirstOrDefault() ?? "";
                    else if (f == 2)
                        spans.Add(ReadSpan(service, scope, value));
                }
            }
        }
        return spans;
    }

    /// <summary>Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; }</summary>
    private static ExportedSpan ReadSpan(string service, string scope, byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var input = new CodedInputStream(span);
        while (input.ReadTag() is var tag and not 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4: parent = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new ExportedSpan(service, scope, traceId, spanId, parent, name, kind);
    }

    /// <summary>Resource { repeated KeyValue attributes = 1; } KeyValue { string key = 1; AnyValue value = 2; }
    /// AnyValue { string string_value = 1; ... }: the value of <c>service.name</c>.</summary>
    private static string ServiceName(byte[] resource)
    {
        foreach (var (field, keyValue) in Fields(resource))
        {
            if (field != 1)
                continue;
            var parts = Fields(keyValue).ToList();
            if (parts.FirstOrDefault(p => p.Field == 1) is { Value: { } key } && Text(key) == "service.name"
                && parts.FirstOrDefault(p => p.Field == 2) is { Value: { } any })
                return Fields(any).Where(p => p.Field == 1).Select(p => Text(p.Value)).FirstOrDefault() ?? "";
        }
        return "";
    }

    /// <summary>The length-delimited fields of a message (nested messages, strings, bytes); other fields are skipped.</summary>
    private static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<(int, byte[])>();
        while (input.ReadTag() is var tag and not 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            else
                input.SkipLastField();
        }
        return fields;
    }

    private static string Text(byte[] utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}
