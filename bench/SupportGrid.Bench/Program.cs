using System.CommandLine;
using System.Globalization;

namespace SupportGrid.Bench;

/// <summary><c>bench chat|route|broadcast|connect ...</c> runs a scenario (a sweep when its size or rate is a list)
/// against a running deployment and the baselines; <c>bench agents-env ...</c> prints the environment that gives a
/// deployment the bench agents.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("SupportGrid load generator: drives a running deployment over real WebSockets.");
        root.Subcommands.Add(ChatCommand(args));
        root.Subcommands.Add(RouteCommand(args));
        root.Subcommands.Add(BroadcastCommand(args));
        root.Subcommands.Add(ConnectCommand(args));
        root.Subcommands.Add(PageViewCommand(args));
        root.Subcommands.Add(AgentsEnvCommand());
        root.Subcommands.Add(AttackCommand());
        root.Subcommands.Add(BacklogCommand());
        root.Subcommands.Add(PlotCommand());
        return await root.Parse(args).InvokeAsync();
    }

    private static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>A size or rate that may be a list (<c>250,500,1000</c>): one sweep point per value.</summary>
    private static Option<double[]> ListOpt(string name, string description, double defaultValue) => new(name)
    {
        Description = description + " A comma-separated list runs a sweep, one point per value.",
        DefaultValueFactory = _ => [defaultValue],
        AllowMultipleArgumentsPerToken = true,
        CustomParser = result =>
        {
            try
            {
                return Sweep.ParseList(result.Tokens.Select(t => t.Value));
            }
            catch (FormatException ex)
            {
                result.AddError($"{name}: {ex.Message}");
                return [];
            }
        },
    };

    /// <summary>What every scenario command shares: its targets, runs, output folders, progress display.</summary>
    private sealed class Common
    {
        public Option<string> Url { get; } = Opt("--url", "Base address of the SupportGrid deployment.", "http://127.0.0.1:5090");
        public Option<int?> Pid { get; } = new("--target-pid") { Description = "Process id of the SupportGrid target (reads its RSS from /proc)." };
        public Option<bool> SkipSupportGrid { get; } = new("--no-supportgrid") { Description = "Measure the baselines only." };
        public Option<string?> RawUrl { get; } = new("--raw-url") { Description = "Base address of the raw SignalR baseline (bench/baselines/signalr-raw)." };
        public Option<int?> RawPid { get; } = new("--raw-pid") { Description = "Process id of the raw SignalR baseline." };
        public Option<string?> SocketIoUrl { get; } = new("--socketio-url") { Description = "Base address of the socket.io baseline (bench/baselines/socketio)." };
        public Option<int?> SocketIoPid { get; } = new("--socketio-pid") { Description = "Process id of the socket.io baseline." };
        public Option<int> Runs { get; } = Opt("--runs", "Runs per point and target; the tables show their medians.", 1);
        public Option<string> Output { get; } = Opt("--out", "Folder for the JSON and markdown results.", "bench/results");
        public Option<string> PlotsDir { get; } = Opt("--plots", "Folder for the PNG plots of a sweep (written when it has two points or more); 'none': no plots.", "docs/benchmarks");
        public Option<bool> Plain { get; } = new("--plain") { Description = "Plain progress lines even on a terminal." };

        public Common(Command command)
        {
            foreach (var option in new Option[] { Url, Pid, SkipSupportGrid, RawUrl, RawPid, SocketIoUrl, SocketIoPid, Runs, Output, PlotsDir, Plain })
                command.Options.Add(option);
        }

        public List<Target> Targets(ParseResult parse)
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

        /// <summary>Runs every point of the sweep: each run measures the targets one after the other, in order.</summary>
        public async Task<List<SweepPoint<T>>> SweepAsync<T>(ParseResult parse, string scenario, double[] values, IReadOnlyList<Target> targets,
            Func<double, Target, Action<string>, Action<string>?, Task<T>> run, Func<T, string> summary)
        {
            var live = Live.Create(parse.GetValue(Plain));
            var points = new List<SweepPoint<T>>();
            foreach (var value in values)
            {
                var results = targets.ToDictionary(t => t.Name, _ => new List<T>());
                for (var n = 1; n <= parse.GetValue(Runs); n++)
                {
                    foreach (var target in targets)
                    {
                        var tag = string.Create(CultureInfo.InvariantCulture, $"[{scenario} {value} {target.Name} run {n}]");
                        var result = await live.RunAsync(tag, (log, status) => run(value, target, log, status));
                        results[target.Name].Add(result);
                        live.Line($"{tag} {summary(result)}");
                    }
                }
                points.Add(new SweepPoint<T>(value, [.. results.Where(x => x.Value.Count > 0).Select(x => new TargetRuns<T>(x.Key, x.Value))]));
            }
            return points;
        }

        /// <summary>Prints the tables, saves the results and, for a sweep, the plots.</summary>
        public void Finish<T>(ParseResult parse, string name, string title, MachineInfo machine, string scenario, IReadOnlyList<SweepPoint<T>> points,
            string tables, Func<string, string> plot)
        {
            Console.WriteLine(tables);
            var stamp = machine.At.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            Console.WriteLine("saved " + SweepReport.SaveSweep(parse.GetValue(Output)!, $"{name}-{stamp}", title, machine, scenario, points, tables));
            if (points.Count > 1 && parse.GetValue(PlotsDir) is { } dir and not "none")
                Console.WriteLine("plot " + plot(dir));
        }
    }

    private static string Sections<T>(IReadOnlyList<SweepPoint<T>> points, string unit, Func<IReadOnlyList<TargetRuns<T>>, string> table) =>
        string.Concat(points.Select(p => string.Create(CultureInfo.InvariantCulture, $"\n## {p.Value} {unit}\n\n{table(p.Targets)}")));

    private sealed class AgentOptions
    {
        public Option<int> Capacity { get; } = Opt("--agent-capacity", "Capacity of each bench agent, as configured (agents-env).", 50);
        public Option<string> Password { get; } = Opt("--agent-password", "Password of the bench agents, as configured (agents-env).", "bench");
        public Option<string> Prefix { get; } = Opt("--agent-prefix", "Bench agent ids are {prefix}0, {prefix}1, ...", "bench");
        public Option<int> Count { get; } = Opt("--agent-count", "Bench agents configured; 0: just enough for the scenario.", 0);
        public Option<string> Site { get; } = Opt("--site", "Site of the chats.", "demo");
        public Option<string> Queue { get; } = Opt("--queue", "Queue of the chats.", "sales");

        public AgentOptions(Command command)
        {
            foreach (var option in new Option[] { Capacity, Password, Prefix, Count, Site, Queue })
                command.Options.Add(option);
        }

        public BenchAgents Read(ParseResult parse, int chats)
        {
            var agents = BenchAgents.For(chats, parse.GetValue(Capacity), parse.GetValue(Password)!, $"{parse.GetValue(Site)}/{parse.GetValue(Queue)}", parse.GetValue(Prefix)!);
            return parse.GetValue(Count) is > 0 and var count ? agents with { Count = count } : agents;
        }
    }

    private static Command ChatCommand(string[] args)
    {
        var chats = Opt("--chats", "Concurrent chats (C).", 100);
        var rate = ListOpt("--rate", "Total messages per second over all chats.", 200);
        var duration = Opt("--duration", "Seconds of measured sending.", 20.0);
        var warmup = Opt("--warmup", "Seconds of sending first, left out of the latency figures.", 3.0);
        var p99 = Opt("--p99-ms", "A rate is held when its median p99 is at most this (and every message arrived once, the rate was kept).", 25.0);
        var attack = Opt("--attack", "Issue 8's under-load run: SupportGrid measured twice per run, with two attackers (one flooding the customer hub, one opening connections) and without; every connection from an address of its own (the target must believe X-Forwarded-For from the bench: bench/run.sh with BENCH_LIMITS=production).", false);
        var attackNice = new Option<int?>("--attack-nice") { Description = "With --attack: run the attackers in a process of their own under `nice -n` this value (as if on another machine: they get the CPU the target and the tool leave idle)." };
        var command = new Command("chat", "C concurrent chats exchanging messages at a fixed total rate; sender -> receiver latency.") { chats, rate, duration, warmup, p99, attack, attackNice };
        var common = new Common(command);
        var agentOptions = new AgentOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var c = parse.GetValue(chats);
            var agents = agentOptions.Read(parse, c);
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var attacked = parse.GetValue(attack);
            var targets = common.Targets(parse);
            if (attacked)
            {
                // The attacked run first, so that the tables' ratios read "attacked / plain".
                var plain = targets.Single(t => t.Name == Target.SupportGrid);
                targets = [plain with { Name = Target.SupportGridAttacked }, plain];
            }
            var points = await common.SweepAsync(parse, "chat", parse.GetValue(rate)!, targets, async (r, target, log, status) =>
            {
                var options = new ChatOptions
                {
                    Target = target.Url,
                    Protocol = ChatWire.ProtocolOf(target),
                    Chats = c,
                    Rate = r,
                    Messages = Math.Max(1, (int)(r * parse.GetValue(duration))),
                    WarmupMessages = (int)(r * parse.GetValue(warmup)),
                    Site = parse.GetValue(agentOptions.Site)!,
                    Queue = parse.GetValue(agentOptions.Queue)!,
                    Agents = agents,
                    DistinctAddresses = attacked,
                    Attack = target.Name == Target.SupportGridAttacked,
                    AttackNice = parse.GetValue(attackNice),
                    TargetPid = target.Pid,
                };
                var before = MachineInfo.RssMb(target.Pid);
                var result = await ChatScenario.RunAsync(options, log, cancellationToken, status);
                return new ChatRun(0, result, before, MachineInfo.RssMb(target.Pid));
            }, x => string.Create(CultureInfo.InvariantCulture,
                $"delivered {x.Result.Delivered}/{x.Result.Sent}, p50 {x.Result.Latency.P50} ms, p99 {x.Result.Latency.P99} ms (customer -> agent p50 {x.Result.FromCustomers?.P50} ms, agent -> customer p50 {x.Result.FromAgents?.P50} ms){(x.Result.FirstError is { } e ? ", first error: " + e : "")}"));
            points = [.. points.Select(p => p with { Targets = [.. p.Targets.Select(t => t with { Runs = [.. t.Runs.Select((r, i) => r with { Run = i + 1 })] })] })];
            var tables = SweepReport.ChatSweepTable(points, parse.GetValue(p99)) + Sections(points, "msg/s", Report.ChatTables)
                + (attacked ? Report.AttackTable(points) : "");
            common.Finish(parse, $"chat-{c}c-{SweepReport.Range(points)}r{(attacked ? "-attack" : "")}", $"chat: {c} chats, {SweepReport.Range(points)} msg/s", machine, "chat", points, tables,
                dir => Plots.Chat(dir, points));
            return points.All(p => p.Targets.All(t => t.Runs.All(x => x.Result.ExactlyOnce))) ? 0 : 2;
        });
        return command;
    }

    private static Command RouteCommand(string[] args)
    {
        var rate = ListOpt("--rate", "Customers arriving per second (R).", 10);
        var duration = Opt("--duration", "Seconds of measured arrivals (R x duration customers).", 10.0);
        var warmup = Opt("--warmup", "Seconds of arrivals first, left out of the latency figures.", 2.0);
        var signedIn = Opt("--agents", "Bench agents signed in and accepting (each chat ends as soon as it connects, so few are needed).", 4);
        var p99 = Opt("--p99-ms", "A rate is held when its median p99 request -> connected is at most this (and every customer connected, the rate was kept).", 50.0);
        var waiting = Opt("--waiting", "Customers already waiting in the queue, each for an account manager who never signs in (SupportGrid only; the deployment must know them: agents-env --waiting, BENCH_WAITING).", 0);
        var idle = Opt("--idle", "Customer connections open through the run that start no chat: the control for --waiting (what its open connections cost, apart from their place in the queue).", 0);
        var backlogNice = new Option<int?>("--backlog-nice") { Description = "Hold --waiting and --idle in a process of their own under `nice -n` this value (as if the waiting customers' browsers were on other machines; the target still holds their connections)." };
        var secret = Opt("--identity-secret", "The site's identity secret, to sign the waiting customers' ids.", Backlog.DemoSecret);
        var command = new Command("route", "Customers arrive at rate R, agents accept at once: request -> offer and request -> connected latency.") { rate, duration, warmup, signedIn, p99, waiting, idle, backlogNice, secret };
        var common = new Common(command);
        var agentOptions = new AgentOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var agents = agentOptions.Read(parse, 1);
            if (parse.GetValue(agentOptions.Count) is 0)
                agents = agents with { Count = parse.GetValue(signedIn) };
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var points = await common.SweepAsync(parse, "route", parse.GetValue(rate)!, common.Targets(parse), (r, target, log, status) =>
                RouteScenario.RunAsync(new RouteOptions
                {
                    Target = target.Url,
                    Protocol = ChatWire.ProtocolOf(target),
                    Rate = r,
                    Customers = Math.Max(1, (int)(r * parse.GetValue(duration))),
                    WarmupCustomers = (int)(r * parse.GetValue(warmup)),
                    Site = parse.GetValue(agentOptions.Site)!,
                    Queue = parse.GetValue(agentOptions.Queue)!,
                    Agents = agents,
                    AgentsSignedIn = parse.GetValue(signedIn),
                    Waiting = target.Name == Target.SupportGrid ? parse.GetValue(waiting) : 0, // the baselines have no account managers
                    Idle = parse.GetValue(idle),
                    BacklogNice = parse.GetValue(backlogNice),
                    IdentitySecret = parse.GetValue(secret)!,
                    TargetPid = target.Pid,
                }, log, cancellationToken, status),
                x => string.Create(CultureInfo.InvariantCulture,
                    $"connected {x.Connected}/{x.Arrived}, to offer p99 {x.ToOffer.P99} ms, to connected p50 {x.ToConnected.P50} ms, p99 {x.ToConnected.P99} ms{(x.FirstError is { } e ? ", first error: " + e : "")}"));
            var tables = SweepReport.RouteSweepTable(points, parse.GetValue(p99)) + Sections(points, "customers/s", SweepReport.RouteTable);
            common.Finish(parse, $"route-{SweepReport.Range(points)}r", $"route: {SweepReport.Range(points)} customers/s", machine, "route", points, tables,
                dir => Plots.Route(dir, points));
            return points.All(p => p.Targets.All(t => t.Runs.All(x => x.AllConnected))) ? 0 : 2;
        });
        return command;
    }

    private static Command BroadcastCommand(string[] args)
    {
        var customers = ListOpt("--customers", "Customers in the channel (N).", 100);
        var broadcasts = Opt("--broadcasts", "Navigations measured per run.", 200);
        var warmup = Opt("--warmup", "Navigations sent first, left out of the figures.", 20);
        var interval = Opt("--interval-ms", "Milliseconds from one navigation to the next (at least until the previous one reached everyone).", 50.0);
        var command = new Command("broadcast", "One agent, N customers in one channel: time until the last customer receives a navigation.") { customers, broadcasts, warmup, interval };
        var common = new Common(command);
        var agentOptions = new AgentOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = common.Targets(parse);
            var sizes = parse.GetValue(customers)!;
            if (targets.Any(t => t.Name == Target.SupportGrid) && sizes.Max() > SupportGridBroadcastDriver.MaxCustomers)
            {
                Console.Error.WriteLine($"--customers: a SupportGrid chat holds at most {SupportGridBroadcastDriver.MaxCustomers} customers (use --no-supportgrid for larger baselines)");
                return 1;
            }
            // One chat: the first bench agent accepts it and makes the join code.
            var agents = agentOptions.Read(parse, 1);
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var points = await common.SweepAsync(parse, "broadcast", sizes, targets, async (n, target, log, status) =>
            {
                var supportGrid = target.Name == Target.SupportGrid ? new SupportGridBroadcastDriver(target.Url, agents) : null;
                IBroadcastDriver driver = target.Name switch
                {
                    Target.SupportGrid => supportGrid!,
                    Target.SocketIo => new SocketIoBroadcastDriver(target.Url),
                    _ => new SignalRBroadcastDriver(target.Url),
                };
                var options = new BroadcastOptions
                {
                    Customers = (int)n,
                    Broadcasts = parse.GetValue(broadcasts),
                    WarmupBroadcasts = parse.GetValue(warmup),
                    Interval = TimeSpan.FromMilliseconds(parse.GetValue(interval)),
                };
                var result = await BroadcastScenario.RunAsync(target.Name, options, driver, log, cancellationToken, status);
                if (supportGrid is { NotFollowed: > 0 and var notFollowed })
                    log($"{notFollowed} Navigate pushes said follow: false (the page {supportGrid.PageUrl} is outside the site's origins); they are counted as received");
                return result;
            }, x => string.Create(CultureInfo.InvariantCulture,
                $"delivered {x.Delivered}/{x.Expected}, to last p50 {x.Last.P50} ms, p99 {x.Last.P99} ms{(x.FirstError is { } e ? ", first error: " + e : "")}"));
            var tables = SweepReport.BroadcastSweepTable(points) + Sections(points, "customers", Report.BroadcastTable);
            var first = points[0].Targets[0].Runs[0];
            common.Finish(parse, $"broadcast-{SweepReport.Range(points)}n", $"broadcast: {SweepReport.Range(points)} customers in one channel, {first.Broadcasts} navigations", machine,
                "broadcast", points, tables, dir => Plots.Broadcast(dir, points));
            return points.All(p => p.Targets.All(t => t.Runs.All(x => x.ExactlyOnce))) ? 0 : 2;
        });
        return command;
    }

    private static Command PlotCommand()
    {
        var results = new Argument<FileInfo>("results") { Description = "A sweep's results saved by this tool (bench/results/*.json)." }.AcceptExistingOnly();
        var folder = Opt("--plots", "Folder for the PNG plot.", "docs/benchmarks");
        var command = new Command("plot", "Writes the PNG plot of a saved sweep again, without running anything.") { results, folder };
        command.SetAction(parse =>
        {
            try
            {
                Console.WriteLine("plot " + Plots.Replot(parse.GetValue(results)!.FullName, parse.GetValue(folder)!));
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException
                or KeyNotFoundException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Command ConnectCommand(string[] args)
    {
        var connections = ListOpt("--customers", "Customer connections (N).", 1000);
        var startChat = Opt("--start-chat", "Each customer also calls StartChat and waits in the queue (no agent is available).", false);
        var site = Opt("--site", "Site of the chats (with --start-chat).", "demo");
        var queue = Opt("--queue", "Queue of the chats (with --start-chat).", "sales");
        var command = new Command("connect", "N customer connections held open: connect time and the target's RSS per connection.") { connections, startChat, site, queue };
        var common = new Common(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = common.Targets(parse).Where(t => t.Name != Target.SocketIo).ToList();
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var points = await common.SweepAsync(parse, "connect", parse.GetValue(connections)!, targets, (n, target, log, status) =>
                ConnectScenario.RunAsync(new ConnectOptions
                {
                    Target = target.Url,
                    TargetPid = target.Pid,
                    Connections = (int)n,
                    StartChat = parse.GetValue(startChat),
                    Site = parse.GetValue(site)!,
                    Queue = parse.GetValue(queue)!,
                }, log, cancellationToken, status),
                x => string.Create(CultureInfo.InvariantCulture, $"{x.Connected} connected, {x.Errors} errors, {(x.KbPerConnection is { } kb ? kb + " KB per connection" : "no RSS")}"));
            var queued = parse.GetValue(startChat) ? "-queued" : "";
            var tables = SweepReport.ConnectSweepTable(points) + Sections(points, "customers", Report.ConnectTable);
            common.Finish(parse, $"connect-{SweepReport.Range(points)}n{queued}",
                $"connect: {SweepReport.Range(points)} customers{(parse.GetValue(startChat) ? ", each queued (StartChat)" : ", idle")}", machine, "connect", points, tables,
                dir => Plots.Connect(dir, points));
            return points.All(p => p.Targets.All(t => t.Runs.All(x => x.Errors == 0))) ? 0 : 2;
        });
        return command;
    }

    private static Command PageViewCommand(string[] args)
    {
        var url = Opt("--url", "Base address of the SupportGrid deployment.", "http://127.0.0.1:5090");
        var pid = new Option<int?>("--target-pid") { Description = "Process id of the target (unused here; bench/run.sh passes it)." };
        var page = Opt("--page", "The demo page the shopper is on.", "/demo/checkout.html");
        var seconds = Opt("--seconds", "Seconds measured idle, then as many active.", 10.0);
        var runs = Opt("--runs", "Runs; the table shows each and their median.", 3);
        var output = Opt("--out", "Folder for the markdown result.", "bench/results");
        var chromium = Opt("--chromium", "Chromium to drive (Debian's by default).", "/usr/bin/chromium");
        var command = new Command("pageview", "A shopper in Chromium, an agent watching the live page view: what the view costs per second.")
        {
            url, pid, page, seconds, runs, output, chromium,
        };
        var agentOptions = new AgentOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var results = new List<PageViewResult>();
            for (var run = 1; run <= parse.GetValue(runs); run++)
            {
                results.Add(await PageViewScenario.RunAsync(new PageViewOptions
                {
                    Target = new Uri(parse.GetValue(url)!),
                    Page = parse.GetValue(page)!,
                    Agents = agentOptions.Read(parse, 1),
                    Idle = TimeSpan.FromSeconds(parse.GetValue(seconds)),
                    Active = TimeSpan.FromSeconds(parse.GetValue(seconds)),
                    ChromiumPath = parse.GetValue(chromium)!,
                }, line => Console.Error.WriteLine($"[pageview run {run}] {line}"), cancellationToken));
            }
            var table = SweepReport.PageViewTable(results);
            Console.WriteLine(table);
            Directory.CreateDirectory(parse.GetValue(output)!);
            var file = Path.Combine(parse.GetValue(output)!, $"pageview-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
            await File.WriteAllTextAsync(file, string.Create(CultureInfo.InvariantCulture,
                $"# pageview: {parse.GetValue(page)}\n\n- machine: {machine.Cores} cores ({machine.Cpu}), {machine.MemoryMb} MB, {machine.Os}, {machine.Runtime}\n- command: `{machine.Command}`\n- at: {machine.At:u}\n\n{table}"), cancellationToken);
            Console.Error.WriteLine($"saved {file}");
            return results.All(r => r.Degraded == 0) ? 0 : 2;
        });
        return command;
    }

    private static Command AttackCommand()
    {
        var url = Opt("--url", "Base address of the SupportGrid deployment.", "http://127.0.0.1:5090");
        var pid = new Option<int?>("--target-pid") { Description = "Process id of the target (its RSS is sampled)." };
        var command = new Command("attack", "Issue 8's two attackers until standard input closes; prints what they did as JSON (used by chat --attack --attack-nice).") { url, pid };
        command.SetAction(async (parse, _) => await AttackerProcess.RunAsync(new Uri(parse.GetValue(url)!), parse.GetValue(pid)));
        return command;
    }

    private static Command BacklogCommand()
    {
        var url = Opt("--url", "Base address of the SupportGrid deployment.", "http://127.0.0.1:5090");
        var site = Opt("--site", "Site of the waiting customers.", "demo");
        var queue = Opt("--queue", "Their queue (the name within the site).", "sales");
        var waiting = Opt("--waiting", "Customers waiting for their account manager (the deployment must know them: agents-env --waiting).", 0);
        var idle = Opt("--idle", "Connections that start no chat.", 0);
        var secret = Opt("--identity-secret", "The site's identity secret, to sign the waiting customers' ids.", Backlog.DemoSecret);
        var concurrency = Opt("--concurrency", "Connections opening at once.", 32);
        var command = new Command("backlog", "Holds route's --waiting and --idle connections until standard input closes; prints their sessions as JSON once open (used by route --backlog-nice).")
        {
            url, site, queue, waiting, idle, secret, concurrency,
        };
        command.SetAction(async (parse, _) => await BacklogProcess.RunAsync(new Uri(parse.GetValue(url)!), parse.GetValue(site)!, parse.GetValue(queue)!,
            parse.GetValue(waiting), parse.GetValue(idle), parse.GetValue(secret)!, parse.GetValue(concurrency)));
        return command;
    }

    private static Command AgentsEnvCommand()
    {
        var count = Opt("--count", "Number of bench agents.", 40);
        var capacity = Opt("--capacity", "Chats each agent may hold.", 50);
        var password = Opt("--password", "Their password.", "bench");
        var queue = Opt("--queue", "The queue they serve (site/queue).", "demo/sales");
        var prefix = Opt("--prefix", "Agent ids are {prefix}0, {prefix}1, ...", "bench");
        var waiting = Opt("--waiting", "Also configure this many backlog customers (route --waiting): their account manager, and an hour's wait for one.", 0);
        var command = new Command("agents-env", "Prints `export` lines that configure the bench agents in a deployment (eval them before starting it).")
        {
            count, capacity, password, queue, prefix, waiting,
        };
        command.SetAction(parse =>
        {
            var agents = new BenchAgents(parse.GetValue(prefix)!, parse.GetValue(count), parse.GetValue(capacity), parse.GetValue(password)!, parse.GetValue(queue)!);
            var site = parse.GetValue(queue)!.Split('/')[0];
            foreach (var (key, value) in agents.Settings().Concat(Backlog.Settings(site, parse.GetValue(waiting))))
                Console.WriteLine($"export {key.Replace(":", "__", StringComparison.Ordinal)}='{value}'");
            return 0;
        });
        return command;
    }
}
