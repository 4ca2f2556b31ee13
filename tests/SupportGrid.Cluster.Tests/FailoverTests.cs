using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using SupportGrid.GrainInterfaces;
using Xunit.Abstractions;

namespace SupportGrid.Cluster.Tests;

/// <summary>Silos and gateways as separate processes over real Redis and PostgreSQL; one of them dies with SIGKILL.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(45);

    [SkippableFact]
    public async Task AChatContinuesWhenTheSiloHoldingItIsKilled()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 2, gateways: 1);
        var gateway = cluster.Gateways[0];
        await using var chat = await ChatParties.ConnectAsync(gateway, gateway);

        var before = await chat.CustomerSaysAsync("Before the kill", "c-0", Recovery);
        Assert.Equal("Before the kill", (await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == before.Seq)).Item2.Text);
        var reply = await chat.AgentSaysAsync("Hello Dana", "a-0", Recovery);
        Assert.Equal("Hello Dana", (await chat.CustomerMessages.WaitAsync(e => e.Seq == reply.Seq)).Text);

        // Kill the silo that holds the chat's channel grain, as a lost node would.
        var victim = await cluster.SiloHoldingAsync(c => c.GetGrain<IChannelGrain>(chat.ChannelId));
        var killedAt = Stopwatch.StartNew();
        victim.Process.Kill();

        var afterKill = await chat.CustomerSaysAsync("Are you still there?", "c-1", Recovery, output.WriteLine);
        var recovered = killedAt.Elapsed;
        output.WriteLine($"First message acknowledged {recovered.TotalSeconds:F1} s after the SIGKILL.");
        var answer = await chat.AgentSaysAsync("Yes, still here", "a-1", Recovery, output.WriteLine);
        var more = await chat.CustomerSaysAsync("Great", "c-2", Recovery);

        // The chat is live again: a message sent now arrives by push, at both ends.
        var live = await chat.AgentSaysAsync("Anything else?", "a-2", Recovery);
        var pushed = await chat.CustomerMessages.WaitAsync(e => e.Seq == live.Seq, seconds: 30);
        Assert.Equal("Anything else?", pushed.Text);
        var liveBack = await chat.CustomerSaysAsync("No, thanks", "c-3", Recovery); // the sender has its own in the answer
        Assert.Equal("No, thanks", (await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == liveBack.Seq, seconds: 30)).Item2.Text);
        output.WriteLine($"Live push after the kill arrived {killedAt.Elapsed.TotalSeconds:F1} s after it.");

        // Every acknowledged message reached the other side: pushed, or fetched by the client when a later push showed the gap.
        var atAgent = await Receiver.AssertDeliveredAsync([afterKill.Seq, more.Seq], chat.AgentPushed,
            async after => (await chat.Agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", chat.ChannelId, after)).Select(e => e.Seq).ToList());
        var atCustomer = await Receiver.AssertDeliveredAsync([answer.Seq], chat.CustomerPushed,
            async after => (await chat.Customer.InvokeAsync<ResumeResult>("Resume", chat.Start.ResumeToken, after)).Events.Select(e => e.Seq).ToList());
        output.WriteLine($"Not pushed, fetched after the gap: {atAgent} at the agent, {atCustomer} at the customer.");

        // Exactly once: the transcript holds each message once, in sequence.
        var transcript = await chat.Agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", chat.ChannelId, 0L);
        Assert.Equal(transcript.Select(e => e.Seq).Distinct().Count(), transcript.Count);
        Assert.Single(transcript, e => e.Text == "Are you still there?");
        Assert.Single(transcript, e => e.Text == "Yes, still here");

        // The record lands in PostgreSQL, with the transcript, once the chat ends.
        await chat.Agent.InvokeAsync("EndChat", chat.ChannelId);
        await using var records = new NpgsqlConnection(cluster.RecordsConnectionString);
        await records.OpenAsync();
        var (outcome, lines) = await EventuallyAsync(async () =>
        {
            await using var query = new NpgsqlCommand("""
                SELECT s.outcome, (SELECT count(*) FROM transcripts t WHERE t.session_id = s.session_id AND t.text IS NOT NULL)
                FROM sessions s WHERE s.session_id = $1 AND s.ended_at IS NOT NULL AND s.accepted_at IS NOT NULL
                """, records);
            query.Parameters.Add(new NpgsqlParameter { Value = chat.Start.SessionId });
            await using var reader = await query.ExecuteReaderAsync();
            return await reader.ReadAsync() && reader.GetInt64(1) >= 6 ? (reader.GetString(0), reader.GetInt64(1)) : ((string, long)?)null;
        }, cluster);
        Assert.Equal(SessionOutcome.Ended, outcome);
        Assert.True(lines >= 6, $"{lines} transcript lines");
        Assert.True(recovered < Recovery, $"recovery took {recovered}");
    }

    internal static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, LocalCluster cluster, int seconds = 30) where T : struct
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (await probe() is { } value)
                return value;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Not within {seconds} s.\n{cluster.Logs()}");
    }
}

/// <summary>Tests that start processes run one at a time: the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "processes";
}
