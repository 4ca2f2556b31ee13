using System.CommandLine;
using System.Globalization;

namespace SupportGrid.Bench;

/// <summary><c>bench chat ...</c> runs a scenario against a running deployment; <c>bench agents-env ...</c> prints the
/// environment that gives a deployment the bench agents.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("SupportGrid load generator: drives a running deployment over real WebSockets.");
        root.Subcommands.Add(ChatCommand(args));
        root.Subcommands.Add(BroadcastCommand(args));
        root.Subcommands.Add(ConnectCommand(args));
        root.Subcommands.Add(AgentsEnvCommand());
        return await root.Parse(args).InvokeAsync();
    }

    private static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>The targets of one invocation: SupportGrid (<c>--url</c>) and, when their address is given, the raw
    /// SignalR and socket.io baselines. Each run measures them one after the other, in this order.</summary>
    private sealed class TargetOptions
    {
        public Option<string> Url { get; } = Opt("--url", "Base address of the SupportGrid deployment.", "http://127.0.0.1:5090");
        public Option<int?> Pid { get; } = new("--target-pid") { Description = "Process id of the SupportGrid target (reads its RSS from /proc)." };
        public Option<bool> SkipSupportGrid { get; } = new("--no-supportgrid") { Description = "Measure the baselines only." };
        public Option<string?> RawUrl { get; } = new("--raw-url") { Description = "Base address of the raw SignalR baseline (bench/baselines/signalr-raw)." };
        public Option<int?> RawPid { get; } = new("--raw-pid") { Description = "Process id of the raw SignalR baseline." };
        public Option<string?> SocketIoUrl { get; } = new("--socketio-url") { Description = "Base address of the socket.io baseline (bench/baselines/socketio)." };
        public Option<int?> SocketIoPid { get; } = new("--socketio-pid") { Description = "Process id of the socket.io baseline." };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Url, Pid, SkipSupportGrid, RawUrl, RawPid, SocketIoUrl, SocketIoPid })
                command.Options.Add(option);
        }

        public List<Target> Read(ParseResult parse)
        {
            var targets = new List<Target>();
            if (!parse.GetValue(SkipSupportGrid))
                targets.Add(new Target(Target.SupportGrid, new Uri(parse.GetValue(Url)!), parse.GetValue(Pid)));
            if (parse.GetValue(RawUrl) is { } raw)
                targets.Add(new Target(Target.Raw, new Uri(raw), parse.GetValue(RawPid)));
            if (parse.GetValue(SocketIoUrl) is { } socketIo)
                targets.Add(new Target(Target.SocketIo, new Uri(socketIo), parse.GetValue(SocketIoPid)));
            return targets;
        }
    }

    private static Command ChatCommand(string[] args)
    {
        var targetOptions = new TargetOptions();
        var chats = Opt("--chats", "Concurrent chats (C).", 100);
        var rate = Opt("--rate", "Total messages per second over all chats.", 200.0);
        var duration = Opt("--duration", "Seconds of measured sending.", 20.0);
        var warmup = Opt("--warmup", "Seconds of sending first, left out of the latency figures.", 3.0);
        var runs = Opt("--runs", "Runs against the same deployment; the table adds their medians.", 1);
        var site = Opt("--site", "Site of the chats.", "demo");
        var queue = Opt("--queue", "Queue of the chats.", "sales");
        var capacity = Opt("--agent-capacity", "Capacity of each bench agent, as configured (agents-env).", 50);
        var password = Opt("--agent-password", "Password of the bench agents, as configured (agents-env).", "bench");
        var prefix = Opt("--agent-prefix", "Bench agent ids are {prefix}0, {prefix}1, ...", "bench");
        var agentCount = Opt("--agent-count", "Bench agents configured; 0: just enough for --chats.", 0);
        var output = Opt("--out", "Folder for the JSON and markdown results.", "bench/results");

        var command = new Command("chat", "C concurrent chats exchanging messages at a fixed total rate; sender -> receiver latency.")
        {
            chats, rate, duration, warmup, runs, site, queue, capacity, password, prefix, agentCount, output,
        };
        targetOptions.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var c = parse.GetValue(chats);
            var r = parse.GetValue(rate);
            var agents = BenchAgents.For(c, parse.GetValue(capacity), parse.GetValue(password)!, $"{parse.GetValue(site)}/{parse.GetValue(queue)}", parse.GetValue(prefix)!);
            if (parse.GetValue(agentCount) is > 0 and var count)
                agents = agents with { Count = count };
            var options = new ChatOptions
            {
                Target = new Uri("http://127.0.0.1"),
                Chats = c,
                Rate = r,
                Messages = Math.Max(1, (int)(r * parse.GetValue(duration))),
                WarmupMessages = (int)(r * parse.GetValue(warmup)),
                Site = parse.GetValue(site)!,
                Queue = parse.GetValue(queue)!,
                Agents = agents,
            };
            var targets = targetOptions.Read(parse);
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var results = targets.ToDictionary(t => t.Name, _ => new List<ChatRun>());
            for (var n = 1; n <= parse.GetValue(runs); n++)
            {
                foreach (var target in targets)
                {
                    if (target.Name == Target.SocketIo)
                    {
                        if (n == 1)
                            Console.Error.WriteLine($"[{target.Name}] skipped: chat against socket.io is not implemented yet (broadcast is)");
                        continue;
                    }
                    var before = MachineInfo.RssMb(target.Pid);
                    var tag = $"[{target.Name} run {n}]";
                    var result = await ChatScenario.RunAsync(options with { Target = target.Url }, line => Console.Error.WriteLine($"{tag} {line}"), cancellationToken);
                    results[target.Name].Add(new ChatRun(n, result, before, MachineInfo.RssMb(target.Pid)));
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{tag} delivered {result.Delivered}/{result.Sent}, p50 {result.Latency.P50} ms, p99 {result.Latency.P99} ms{(result.FirstError is { } e ? ", first error: " + e : "")}"));
                }
            }
            var measured = results.Where(x => x.Value.Count > 0).Select(x => new TargetRuns<ChatRun>(x.Key, x.Value)).ToList();
            Console.WriteLine(Report.ChatTables(measured));
            Console.WriteLine("saved " + Report.SaveChat(parse.GetValue(output)!, machine, measured));
            return measured.All(t => t.Runs.All(x => x.Result.ExactlyOnce)) ? 0 : 2;
        });
        return command;
    }

    private static Command BroadcastCommand(string[] args)
    {
        var targetOptions = new TargetOptions();
        var customers = Opt("--customers", "Customers in the channel (N).", 100);
        var broadcasts = Opt("--broadcasts", "Navigations measured per run.", 200);
        var warmup = Opt("--warmup", "Navigations sent first, left out of the figures.", 20);
        var interval = Opt("--interval-ms", "Milliseconds from one navigation to the next (at least until the previous one reached everyone).", 50.0);
        var runs = Opt("--runs", "Runs per target; the table adds their medians.", 1);
        var output = Opt("--out", "Folder for the JSON and markdown results.", "bench/results");
        var command = new Command("broadcast", "One agent, N customers in one channel: time until the last customer receives a navigation.")
        {
            customers, broadcasts, warmup, interval, runs, output,
        };
        targetOptions.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new BroadcastOptions
            {
                Customers = parse.GetValue(customers),
                Broadcasts = parse.GetValue(broadcasts),
                WarmupBroadcasts = parse.GetValue(warmup),
                Interval = TimeSpan.FromMilliseconds(parse.GetValue(interval)),
            };
            var targets = targetOptions.Read(parse);
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var results = new Dictionary<string, List<BroadcastResult>>();
            for (var n = 1; n <= parse.GetValue(runs); n++)
            {
                foreach (var target in targets)
                {
                    IBroadcastDriver? driver = target.Name switch
                    {
                        Target.Raw => new SignalRBroadcastDriver(target.Url),
                        Target.SocketIo => new SocketIoBroadcastDriver(target.Url),
                        _ => null,
                    };
                    if (driver is null)
                    {
                        if (n == 1)
                            Console.Error.WriteLine($"[{target.Name}] skipped: SupportGrid has one customer per channel until issue 5 (multi-customer channels)");
                        continue;
                    }
                    var tag = $"[{target.Name} run {n}]";
                    var result = await BroadcastScenario.RunAsync(target.Name, options, driver, line => Console.Error.WriteLine($"{tag} {line}"), cancellationToken);
                    (results.TryGetValue(target.Name, out var list) ? list : results[target.Name] = []).Add(result);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{tag} delivered {result.Delivered}/{result.Expected}, to last p50 {result.Last.P50} ms, p99 {result.Last.P99} ms{(result.FirstError is { } e ? ", first error: " + e : "")}"));
                }
            }
            if (results.Count == 0)
                return 1;
            var measured = results.Select(x => new TargetRuns<BroadcastResult>(x.Key, x.Value)).ToList();
            Console.WriteLine(Report.BroadcastTable(measured));
            Console.WriteLine("saved " + Report.SaveBroadcast(parse.GetValue(output)!, machine, measured));
            return measured.All(t => t.Runs.All(x => x.ExactlyOnce)) ? 0 : 2;
        });
        return command;
    }

    private static Command ConnectCommand(string[] args)
    {
        var targetOptions = new TargetOptions();
        var connections = Opt("--customers", "Customer connections (N).", 1000);
        var startChat = Opt("--start-chat", "Each customer also calls StartChat and waits in the queue (no agent is available).", false);
        var site = Opt("--site", "Site of the chats (with --start-chat).", "demo");
        var queue = Opt("--queue", "Queue of the chats (with --start-chat).", "sales");
        var runs = Opt("--runs", "Runs per target.", 1);
        var output = Opt("--out", "Folder for the JSON and markdown results.", "bench/results");
        var command = new Command("connect", "N customer connections held open: connect time and the target's RSS per connection.")
        {
            connections, startChat, site, queue, runs, output,
        };
        targetOptions.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = targetOptions.Read(parse).Where(t => t.Name != Target.SocketIo).ToList();
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var results = targets.ToDictionary(t => t.Name, _ => new List<ConnectResult>());
            for (var n = 1; n <= parse.GetValue(runs); n++)
            {
                foreach (var target in targets)
                {
                    var tag = $"[{target.Name} run {n}]";
                    var options = new ConnectOptions
                    {
                        Target = target.Url,
                        TargetPid = target.Pid,
                        Connections = parse.GetValue(connections),
                        StartChat = parse.GetValue(startChat),
                        Site = parse.GetValue(site)!,
                        Queue = parse.GetValue(queue)!,
                    };
                    results[target.Name].Add(await ConnectScenario.RunAsync(options, line => Console.Error.WriteLine($"{tag} {line}"), cancellationToken));
                }
            }
            var measured = results.Select(x => new TargetRuns<ConnectResult>(x.Key, x.Value)).ToList();
            Console.WriteLine(Report.ConnectTable(measured));
            Console.WriteLine("saved " + Report.SaveConnect(parse.GetValue(output)!, machine, measured));
            return measured.All(t => t.Runs.All(x => x.Errors == 0)) ? 0 : 2;
        });
        return command;
    }

    private static Command AgentsEnvCommand()
    {
        var count = Opt("--count", "Number of bench agents.", 40);
        var capacity = Opt("--capacity", "Chats each agent may hold.", 50);
        var password = Opt("--password", "Their password.", "bench");
        var queue = Opt("--queue", "The queue they serve (site/queue).", "demo/sales");
        var prefix = Opt("--prefix", "Agent ids are {prefix}0, {prefix}1, ...", "bench");
        var command = new Command("agents-env", "Prints `export` lines that configure the bench agents in a deployment (eval them before starting it).")
        {
            count, capacity, password, queue, prefix,
        };
        command.SetAction(parse =>
        {
            var agents = new BenchAgents(parse.GetValue(prefix)!, parse.GetValue(count), parse.GetValue(capacity), parse.GetValue(password)!, parse.GetValue(queue)!);
            foreach (var (key, value) in agents.Settings())
                Console.WriteLine($"export {key.Replace(":", "__", StringComparison.Ordinal)}='{value}'");
            return 0;
        });
        return command;
    }
}
