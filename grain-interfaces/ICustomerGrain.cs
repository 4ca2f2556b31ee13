namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One chat session of one customer, from the request to the end. Key: the session id (a random Guid).
/// The session is reached from a browser only with its resume token, <c>{sessionId:N}.{secret}</c>.
/// </summary>
[Alias("sg.ICustomerGrain")]
public interface ICustomerGrain : IGrainWithGuidKey
{
    /// <summary>Starts the session from connection <paramref name="connectionId"/>: stores the request, enqueues it,
    /// returns the resume token and the queue position.</summary>
    [Alias("Start")]
    Task<StartChatResult> StartAsync(ChatRequest request, IGatewayObserver gateway, string connectionId);

    /// <summary>Re-binds a connection to the session after checking the token's secret; returns every channel event after <paramref name="afterSeq"/>.</summary>
    [Alias("Resume")]
    Task<ResumeResult> ResumeAsync(string secret, long afterSeq, IGatewayObserver gateway, string connectionId);

    /// <summary>Starts the session by joining the channel a join code leads to (no queue): checks the code and the site,
    /// adds the customer to the channel, returns the resume token and the channel's events so far. Refused with
    /// <see cref="ErrorCodes.InvalidCode"/> when the code is unknown, expired or of another site.</summary>
    [Alias("Join")]
    Task<JoinChatResult> JoinAsync(string code, ChatRequest request, IGatewayObserver gateway, string connectionId);

    /// <summary>The customer's widget reports where its page is (after a load or an in-page navigation); ignored unless
    /// the customer is in a channel.</summary>
    [Alias("ReportPage")]
    Task ReportPageAsync(PageReport report);

    /// <summary>The customer's page activity, for the agents; ignored unless the customer is in a channel.</summary>
    [Alias("PageActivity")]
    Task PageActivityAsync(PageActivity activity);

    /// <summary>A piece of the customer's live page view, for the agents; ignored unless the customer is in a channel.</summary>
    [Alias("PageView")]
    Task PageViewAsync(PageViewChunk chunk);

    /// <summary>Records a message left while the queue was offline (this grain's session id names the message).</summary>
    [Alias("LeaveMessage")]
    Task LeaveMessageAsync(OfflineMessage message);

    /// <summary>A connection of the session closed. A waiting customer with no connection left is abandoned after a grace period.</summary>
    [Alias("Disconnected")]
    Task DisconnectedAsync(string connectionId);

    /// <summary>Sends a chat message into the session's channel; returns it as stored. Idempotent per <paramref name="clientMessageId"/>.</summary>
    [Alias("SendMessage")]
    Task<SentMessage> SendMessageAsync(string text, string clientMessageId);

    /// <summary>Tells the agent whether the customer is typing.</summary>
    [Alias("SetTyping")]
    Task SetTypingAsync(bool isTyping);

    /// <summary>Ends the session: leaves the queue, or leaves the channel (which ends it unless other customers and an agent remain).</summary>
    [Alias("End")]
    Task EndAsync();

    /// <summary>Called by the queue: the customer's position changed.</summary>
    [Orleans.Concurrency.OneWay, Alias("PositionChanged")]
    Task PositionChangedAsync(int position, int estimatedWaitSeconds);

    /// <summary>Called by the accepting agent: the customer is now in a channel. False if the session is no longer waiting.</summary>
    [Alias("Assign")]
    Task<bool> AssignAsync(Guid channelId, string agentName);

    /// <summary>Called by the agent transferring the chat: the customer waits again in <paramref name="queueKey"/>, in the
    /// same channel, with their original request time. Refused with <see cref="ErrorCodes.Offline"/> if that queue is offline.
    /// A transfer whose <see cref="TransferInfo.TransferId"/> was carried out before (a retry after a lost answer) is done:
    /// it answers the place (0 if another agent has the chat since) and queues nothing again.</summary>
    [Alias("Requeue")]
    Task<int> RequeueAsync(string queueKey, string? preferredAgentId, TransferInfo transfer);

    /// <summary>Called by a customer who waited in <paramref name="queueKey"/> for the whole channel after a transfer and
    /// left: this customer, in the same channel, takes their place (their <paramref name="entry"/>'s request time, transfer
    /// note and preferred agent). False if this session is not in that channel any more.</summary>
    [Alias("TakeOverWait")]
    Task<bool> TakeOverWaitAsync(string queueKey, QueueEntry entry);

    /// <summary>Called by the queue when an agent claimed this customer but never confirmed: if the session is still
    /// waiting (the agent's silo died before the chat started), it goes back to the queue.</summary>
    /// <summary>From the queue: the customer waited its MaxWait. Moves to <paramref name="overflowTo"/> (a queue key) or, with
    /// none, ends with the offer to leave a message. A customer no longer waiting there just leaves that queue.</summary>
    [Orleans.Concurrency.OneWay, Alias("WaitedTooLong")]
    Task WaitedTooLongAsync(string fromQueue, string? overflowTo);

    [Orleans.Concurrency.OneWay, Alias("ClaimLapsed")]
    Task ClaimLapsedAsync(QueueEntry entry);

    /// <summary>Called by the channel when it ends; the channel waits for it (so a lost silo cannot lose it) and it may
    /// interleave with this grain's own call that is ending the channel.</summary>
    [Orleans.Concurrency.AlwaysInterleave, Alias("ChannelEnded")]
    Task ChannelEndedAsync(Guid channelId, string reason);

    /// <summary>The session's status (for tests and operators).</summary>
    [Alias("GetStatus")]
    Task<string> GetStatusAsync();
}
