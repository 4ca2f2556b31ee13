
namespace SupportGrid.Grains.Tests;

/// <summary>The queue grain's writes: one in flight, the next one taking every request made meanwhile.</summary>
public sealed class CoalescedWritesTests
{
    private readonly System.Threading.Channels.Channel<(bool Whole, TaskCompletionSource Done)> _started = System.Threading.Channels.Channel.CreateUnbounded<(bool, TaskCompletionSource)>();

    private CoalescedWrites Create() => new(whole =>
    {
        var done = new TaskCompletionSource();
        _started.Writer.TryWrite((whole, done));
        return done.Task;
    });

    private async Task<(bool Whole, TaskCompletionSource Done)> NextWriteAsync() =>
        await _started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task RequestsMadeDuringAWriteShareOneNextWriteThatStartsOnlyWhenTheFirstEnds()
    {
        var writes = Create();
        var first = writes.WriteAsync();
        var firstWrite = await NextWriteAsync();

        var second = writes.WriteAsync();
        var third = writes.WriteAsync(whole: true);
        Assert.Same(second, third);
        Assert.False(_started.Reader.TryRead(out _)); // never two in flight

        firstWrite.Done.SetResult();
        await first;
        var secondWrite = await NextWriteAsync();
        Assert.False(firstWrite.Whole);
        Assert.True(secondWrite.Whole); // one joiner asked for the whole record
        Assert.False(second.IsCompleted);

        secondWrite.Done.SetResult();
        await second;
        Assert.False(_started.Reader.TryRead(out _)); // two writes for three requests
    }

    [Fact]
    public async Task AFailedWriteFailsItsCallersAndTheNextRequestWritesAgain()
    {
        var writes = Create();
        var first = writes.WriteAsync();
        var joined = writes.WriteAsync();
        (await NextWriteAsync()).Done.SetException(new InvalidOperationException("disk full"));
        Assert.Equal("disk full", (await Assert.ThrowsAsync<InvalidOperationException>(() => first)).Message);

        (await NextWriteAsync()).Done.SetException(new InvalidOperationException("still full"));
        Assert.Equal("still full", (await Assert.ThrowsAsync<InvalidOperationException>(() => joined)).Message);

        var retry = writes.WriteAsync();
        (await NextWriteAsync()).Done.SetResult();
        await retry;
    }
}
