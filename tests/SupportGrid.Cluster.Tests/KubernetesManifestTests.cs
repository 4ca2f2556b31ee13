using System.Diagnostics;
using System.Globalization;
using Orleans.Hosting.Kubernetes;
using SupportGrid.Gateway.Health;
using SupportGrid.Silo;
using SupportGrid.Silo.Records;
using YamlDotNet.RepresentationModel;

namespace SupportGrid.Cluster.Tests;

/// <summary>Renders every overlay of <c>k8s/</c> with <c>kubectl kustomize</c> and checks it against what the code reads.</summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> Overlays() => new() { "dev", "production" };

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void EveryContainerHasProbesAndResourceRequests(string overlay)
    {
        var rendered = Render(overlay);
        foreach (var (owner, container) in rendered.Containers())
        {
            var name = $"{owner}/{container.Str("name")}";
            Assert.True(container.Has("resources", "requests", "cpu") && container.Has("resources", "requests", "memory"), $"{name} lacks resource requests");
            if (rendered.Kind(owner) == "Job")
                continue;
            Assert.True(container.Has("readinessProbe") && container.Has("livenessProbe"), $"{name} lacks probes");
        }
        foreach (var app in new[] { "supportgrid-silo", "supportgrid-gateway" })
        {
            var container = rendered.Container(app);
            var http = int.Parse(container.Seq("ports").Single(p => p.Str("name") == "http").Str("containerPort"), CultureInfo.InvariantCulture);
            Assert.EndsWith($":{http}", Env(container)["ASPNETCORE_URLS"]);
            foreach (var (probe, path) in new[] { ("startupProbe", "/health/startup"), ("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live") })
            {
                Assert.Equal(path, container.Map(probe, "httpGet").Str("path"));
                Assert.Equal("http", container.Map(probe, "httpGet").Str("port"));
            }
        }
    }

    /// <summary>The images the Deployments run (<c>k8s/images</c>; Docker does not run here, so they are read, not built).</summary>
    [SkippableTheory]
    [InlineData("silo.Dockerfile", "supportgrid-silo", typeof(SiloOptions))]
    [InlineData("gateway.Dockerfile", "supportgrid-gateway", typeof(DrainOptions))]
    public void EachImageIsMultiStageRunsAsNonRootAndExposesThePortsItsPodDeclares(string file, string app, Type fromAssembly)
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "k8s", "images", file))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.True(stages.Count >= 2, $"{file}: not multi-stage");
        Assert.Contains("/dotnet/sdk:", stages[0]);
        Assert.Contains("/dotnet/aspnet:", stages[^1]); // the runtime image, without the SDK
        var user = lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.True(user is "$APP_UID" or "app" || (int.TryParse(user, out var uid) && uid != 0), $"{file} runs as {user}");
        Assert.True(lines.IndexOf(lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))) > lines.IndexOf(stages[^1]), "USER belongs to the final stage");

        var exposed = lines.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToHashSet();
        foreach (var overlay in new[] { "dev", "production" })
        {
            foreach (var port in Render(overlay).Container(app).Seq("ports"))
                Assert.Contains(int.Parse(port.Str("containerPort"), CultureInfo.InvariantCulture), exposed);
        }
        Assert.Contains($"\"{fromAssembly.Assembly.GetName().Name}.dll\"", lines.Last(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));

        // The build context leaves out the host's build output and packages (see .dockerignore).
        var ignored = File.ReadAllLines(Path.Combine(Repository.Root, ".dockerignore"));
        Assert.All(new[] { "**/bin/", "**/obj/", "**/node_modules/" }, pattern => Assert.Contains(pattern, ignored));
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void TheSiloGetsWhatOrleansKubernetesHostingReads(string overlay)
    {
        var rendered = Render(overlay);
        var deployment = rendered.Single("Deployment", "supportgrid-silo");
        var pod = deployment.Map("spec", "template");
        var labels = pod.Map("metadata", "labels");
        var container = rendered.Container("supportgrid-silo");
        var env = container.Seq("env").ToDictionary(e => e.Str("name"));

        string FieldPath(string variable) => env[variable].Map("valueFrom", "fieldRef").Str("fieldPath");
        Assert.Equal("metadata.name", FieldPath(KubernetesHostingOptions.PodNameEnvironmentVariable));
        Assert.Equal("metadata.namespace", FieldPath(KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
        Assert.Equal("status.podIP", FieldPath(KubernetesHostingOptions.PodIPEnvironmentVariable));
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ServiceIdLabel}']", FieldPath(KubernetesHostingOptions.ServiceIdEnvironmentVariable));
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ClusterIdLabel}']", FieldPath(KubernetesHostingOptions.ClusterIdEnvironmentVariable));
        Assert.True(labels.Has(KubernetesHostingOptions.ServiceIdLabel) && labels.Has(KubernetesHostingOptions.ClusterIdLabel));

        // The gateways join the same cluster.
        var gateway = Env(rendered.Container("supportgrid-gateway"));
        Assert.Equal(labels.Str(KubernetesHostingOptions.ServiceIdLabel), gateway[$"{Key(ClusterModeOptions.Section)}__{nameof(ClusterModeOptions.ServiceId)}"]);
        Assert.Equal(labels.Str(KubernetesHostingOptions.ClusterIdLabel), gateway[$"{Key(ClusterModeOptions.Section)}__{nameof(ClusterModeOptions.ClusterId)}"]);
        Assert.Equal("cluster", gateway["SupportGrid__Mode"]);

        // Ports: what the silo listens on is what the pod declares.
        var values = Env(container);
        var defaults = new SiloOptions();
        int Port(string name) => int.Parse(container.Seq("ports").Single(p => p.Str("name") == name).Str("containerPort"), CultureInfo.InvariantCulture);
        Assert.Equal(Port("silo"), int.Parse(values.GetValueOrDefault($"{Key(SiloOptions.Section)}__{nameof(SiloOptions.SiloPort)}", defaults.SiloPort.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));
        Assert.Equal(Port("orleans-gateway"), int.Parse(values.GetValueOrDefault($"{Key(SiloOptions.Section)}__{nameof(SiloOptions.GatewayPort)}", defaults.GatewayPort.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));

        // A stopping silo gets its shutdown timeout before the kubelet kills it.
        var shutdown = TimeSpan.Parse(values.GetValueOrDefault($"{Key(SiloOptions.Section)}__{nameof(SiloOptions.ShutdownTimeout)}", defaults.ShutdownTimeout.ToString()), CultureInfo.InvariantCulture);
        Assert.True(TimeSpan.FromSeconds(pod.Map("spec").Int("terminationGracePeriodSeconds")) > shutdown);
        var drain = TimeSpan.Parse(gateway.GetValueOrDefault($"{Key(DrainOptions.Section)}__{nameof(DrainOptions.ShutdownTimeout)}", new DrainOptions().ShutdownTimeout.ToString()), CultureInfo.InvariantCulture);
        var reconnectWait = TimeSpan.Parse(gateway.GetValueOrDefault($"{Key(DrainOptions.Section)}__{nameof(DrainOptions.ReconnectWait)}", new DrainOptions().ReconnectWait.ToString()), CultureInfo.InvariantCulture);
        // The drain (up to ReconnectWait) runs before the host's stop (up to ShutdownTimeout).
        Assert.True(TimeSpan.FromSeconds(rendered.Single("Deployment", "supportgrid-gateway").Map("spec", "template", "spec").Int("terminationGracePeriodSeconds")) > reconnectWait + drain);

        // Cluster mode and the PostgreSQL records are switched on, with connection strings from Secrets.
        foreach (var variable in new[] { $"{Key(ClusterModeOptions.Section)}__{nameof(ClusterModeOptions.Redis)}", $"{Key(RecordsOptions.Section)}__{nameof(RecordsOptions.PostgresConnectionString)}" })
            Assert.True(env[variable].Has("valueFrom", "secretKeyRef"), $"{variable} must come from a Secret");
        Assert.Equal(RecordsProviders.Postgres, values[$"{Key(RecordsOptions.Section)}__{nameof(RecordsOptions.Provider)}"]);
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void TheSiloMayDoWhatOrleansKubernetesHostingNeedsOnPods(string overlay)
    {
        var rendered = Render(overlay);
        var account = rendered.Single("Deployment", "supportgrid-silo").Map("spec", "template", "spec").Str("serviceAccountName");
        Assert.NotNull(rendered.Single("ServiceAccount", account));
        var binding = rendered.All("RoleBinding").Single(b => b.Seq("subjects").Any(s => s.Str("kind") == "ServiceAccount" && s.Str("name") == account));
        var role = rendered.Single(binding.Map("roleRef").Str("kind"), binding.Map("roleRef").Str("name"));
        var verbs = role.Seq("rules").Where(r => r.List("resources").Contains("pods") && r.List("apiGroups").Contains(""))
            .SelectMany(r => r.List("verbs")).ToHashSet();
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "patch", "delete" }, verbs);
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void SilosAndGatewaysHaveBudgetsAutoscalersAServiceAWebSocketFriendlyIngressAndAMigrationJob(string overlay)
    {
        var rendered = Render(overlay);
        foreach (var app in new[] { "supportgrid-silo", "supportgrid-gateway" })
        {
            var selector = rendered.Single("Deployment", app).Map("spec", "selector", "matchLabels").Str("app.kubernetes.io/name");
            Assert.Contains(rendered.All("PodDisruptionBudget"), p => p.Map("spec", "selector", "matchLabels").Str("app.kubernetes.io/name") == selector);
            Assert.Contains(rendered.All("HorizontalPodAutoscaler"), h => h.Map("spec", "scaleTargetRef").Str("name") == app);
        }
        var service = rendered.Single("Service", "supportgrid-gateway");
        Assert.Equal("supportgrid-gateway", service.Map("spec", "selector").Str("app.kubernetes.io/name"));
        var ingress = rendered.All("Ingress").Single();
        var annotations = ingress.Map("metadata", "annotations");
        Assert.True(int.Parse(annotations.Str("nginx.ingress.kubernetes.io/proxy-read-timeout"), CultureInfo.InvariantCulture) >= 3600);
        Assert.True(int.Parse(annotations.Str("nginx.ingress.kubernetes.io/proxy-send-timeout"), CultureInfo.InvariantCulture) >= 3600);
        Assert.Equal("supportgrid-gateway", ingress.Seq("spec", "rules").Single().Seq("http", "paths").Single().Map("backend", "service").Str("name"));

        var job = rendered.Single("Job", "supportgrid-migrate");
        var migrate = job.Seq("spec", "template", "spec", "containers").Single();
        Assert.Equal(["migrate"], migrate.List("args"));
        Assert.Equal(rendered.Container("supportgrid-silo").Str("image"), migrate.Str("image"));

        // Every Secret a container reads is in the overlay (dev) or is deliberately left to the operator (production).
        var secrets = rendered.Containers().SelectMany(c => c.Container.Has("env") ? c.Container.Seq("env") : [])
            .Where(e => e.Has("valueFrom", "secretKeyRef")).Select(e => e.Map("valueFrom", "secretKeyRef").Str("name")).ToHashSet();
        Assert.Equal(["supportgrid-stores"], secrets);
        if (overlay == "dev")
            Assert.NotNull(rendered.Single("Secret", "supportgrid-stores"));
        else
            Assert.Empty(rendered.All("Secret"));
    }

    private static string Key(string section) => section.Replace(":", "__", StringComparison.Ordinal);

    private static Dictionary<string, string> Env(YamlMappingNode container) =>
        container.Seq("env").Where(e => e.Has("value")).ToDictionary(e => e.Str("name"), e => e.Str("value"));

    private static Manifests Render(string overlay)
    {
        var kubectl = Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Skip.If(kubectl is null, "kubectl is not installed: the k8s/ manifests were not rendered or checked (install kubectl with kustomize v5 to run these tests).");
        var info = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Repository.Root, "k8s", "overlays", overlay)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"kubectl kustomize k8s/overlays/{overlay} failed: {stderr}");
        var stream = new YamlStream();
        stream.Load(new StringReader(stdout.Result));
        return new Manifests(stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList());
    }

    private sealed class Manifests(List<YamlMappingNode> objects)
    {
        public IEnumerable<YamlMappingNode> All(string kind) => objects.Where(o => o.Str("kind") == kind);

        public YamlMappingNode Single(string kind, string name) => Assert.Single(All(kind), o => o.Map("metadata").Str("name") == name);

        public string Kind(string owner) => objects.First(o => Name(o) == owner).Str("kind");

        public YamlMappingNode Container(string deployment) =>
            Single("Deployment", deployment).Seq("spec", "template", "spec", "containers").First();

        public IEnumerable<(string Owner, YamlMappingNode Container)> Containers() =>
            objects.Where(o => o.Str("kind") is "Deployment" or "StatefulSet" or "Job")
                .SelectMany(o => o.Seq("spec", "template", "spec", "containers").Select(c => (Name(o), c)));

        private static string Name(YamlMappingNode o) => $"{o.Str("kind")}/{o.Map("metadata").Str("name")}";
    }
}

/// <summary>Small readers over YamlDotNet's node model.</summary>
internal static class Yaml
{
    public static YamlNode? Get(this YamlMappingNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out current))
                return null;
        }
        return current;
    }

    public static bool Has(this YamlMappingNode node, params string[] path) => node.Get(path) is not null;

    public static YamlMappingNode Map(this YamlMappingNode node, params string[] path) =>
        node.Get(path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"No mapping at {string.Join('.', path)}");

    public static IEnumerable<YamlMappingNode> Seq(this YamlMappingNode node, params string[] path) =>
        (node.Get(path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"No list at {string.Join('.', path)}")).Children.Cast<YamlMappingNode>();

    public static List<string> List(this YamlMappingNode node, params string[] path) =>
        (node.Get(path) as YamlSequenceNode)?.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList() ?? [];

    public static string Str(this YamlMappingNode node, params string[] path) =>
        (node.Get(path) as YamlScalarNode)?.Value ?? throw new Xunit.Sdk.XunitException($"No value at {string.Join('.', path)}");

    public static int Int(this YamlMappingNode node, params string[] path) => int.Parse(node.Str(path), CultureInfo.InvariantCulture);
}
