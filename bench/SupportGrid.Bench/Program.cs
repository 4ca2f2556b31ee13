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
        root.Subcommands.Add(AgentsEnvCommand());
        return await root.Parse(args).InvokeAsync();
    }

    private static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static Command ChatCommand(string[] args)
    {
        var url = Opt("--url", "Base address of the deployment.", "http://127.0.0.1:5090");
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
        var targetPid = new Option<int?>("--target-pid") { Description = "Process id of the target (reads its RSS from /proc)." };
        var output = Opt("--out", "Folder for the JSON and markdown results.", "bench/results");

        var command = new Command("chat", "C concurrent chats exchanging messages at a fixed total rate; sender -> receiver latency.")
        {
            url, chats, rate, duration, warmup, runs, site, queue, capacity, password, prefix, agentCount, targetPid, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var c = parse.GetValue(chats);
            var r = parse.GetValue(rate);
            var agents = BenchAgents.For(c, parse.GetValue(capacity), parse.GetValue(password)!, $"{parse.GetValue(site)}/{parse.GetValue(queue)}", parse.GetValue(prefix)!);
            if (parse.GetValue(agentCount) is > 0 and var count)
                agents = agents with { Count = count };
            var options = new ChatOptions
            {
                Target = new Uri(parse.GetValue(url)!),
                Chats = c,
                Rate = r,
                Messages = Math.Max(1, (int)(r * parse.GetValue(duration))),
                WarmupMessages = (int)(r * parse.GetValue(warmup)),
                Site = parse.GetValue(site)!,
                Queue = parse.GetValue(queue)!,
                Agents = agents,
            };
            var pid = parse.GetValue(targetPid);
            var machine = MachineInfo.Current("bench " + string.Join(' ', args));
            var results = new List<ChatRun>();
            for (var n = 1; n <= parse.GetValue(runs); n++)
            {
                var before = MachineInfo.RssMb(pid);
                var result = await ChatScenario.RunAsync(options, line => Console.Error.WriteLine($"[run {n}] {line}"), cancellationToken);
                results.Add(new ChatRun(n, result, before, MachineInfo.RssMb(pid)));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[run {n}] delivered {result.Delivered}/{result.Sent}, p50 {result.Latency.P50} ms, p99 {result.Latency.P99} ms{(result.FirstError is { } e ? ", first error: " + e : "")}"));
            }
            Console.WriteLine(Report.ChatTable(results));
            Console.WriteLine("saved " + Report.SaveChat(parse.GetValue(output)!, machine, results));
            return results.All(x => x.Result.ExactlyOnce) ? 0 : 2;
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
