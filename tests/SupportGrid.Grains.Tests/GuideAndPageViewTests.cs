using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>The channel's checks on what an agent shows on the customers' pages and on live page view requests.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GuideAndPageViewTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "g" + Guid.NewGuid().ToString("N")[..8];

    private async Task<(IChannelGrain Channel, MemberRef Agent, Guid Customer)> ChatAsync()
    {
        var gateway = _client.CreateObjectReference<IGatewayObserver>(_gateway);
        var agentId = $"{_site}-alice";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, "Alice", 2, [QueueKey.For(_site, "sales")]), gateway);
        await agent.SetStatusAsync(AgentStatus.Available);
        var sessionId = Guid.NewGuid();
        var request = new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/kettle", "Kettle", null, false, null);
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(request, gateway, "conn-" + sessionId);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == sessionId);
        var accepted = await agent.AcceptOfferAsync(sessionId);
        return (_client.GetGrain<IChannelGrain>(accepted.ChannelId), new MemberRef(Roles.Agent, agentId, "Alice"), sessionId);
    }

    [Fact]
    public async Task OnlyAnAgentOfAnOpenChatGuidesItsCustomersOrOpensTheirPageView()
    {
        var (channel, agent, customer) = await ChatAsync();
        var asCustomer = new MemberRef(Roles.Customer, customer.ToString(), "Dana");
        var mallory = new MemberRef(Roles.Agent, $"{_site}-mallory", "Mallory");

        await channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Highlight, Selector: "#add-to-cart"));
        await channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Pointer, 10, 20, To: customer));
        await channel.RequestPageViewAsync(agent, customer, true);

        var refusals = new (Func<Task> Call, string Code)[]
        {
            (() => channel.GuideAsync(asCustomer, new AgentGuide(AgentGuideKinds.Clear)), ErrorCodes.NotMember),
            (() => channel.GuideAsync(mallory, new AgentGuide(AgentGuideKinds.Clear)), ErrorCodes.NotMember),
            (() => channel.GuideAsync(agent, new AgentGuide("confetti")), ErrorCodes.InvalidInput),
            (() => channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Scroll, Selector: "p}body{display:none")), ErrorCodes.InvalidInput),
            (() => channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Pointer, 10)), ErrorCodes.InvalidInput),
            (() => channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Clear, To: Guid.NewGuid())), ErrorCodes.NotMember),
            (() => channel.RequestPageViewAsync(asCustomer, customer, true), ErrorCodes.NotMember),
            (() => channel.RequestPageViewAsync(mallory, customer, true), ErrorCodes.NotMember),
            (() => channel.RequestPageViewAsync(agent, Guid.NewGuid(), true), ErrorCodes.NotMember),
        };
        foreach (var (call, code) in refusals)
            Assert.Equal(code, (await Assert.ThrowsAsync<SupportGridException>(call)).Code);

        await channel.EndAsync(agent, "done");
        Assert.Equal(ErrorCodes.ChannelEnded, (await Assert.ThrowsAsync<SupportGridException>(() =>
            channel.GuideAsync(agent, new AgentGuide(AgentGuideKinds.Clear)))).Code);
    }
}
