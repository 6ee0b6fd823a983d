namespace NodeDns.EndToEnd.Support;

/// <summary>Polls a condition until it holds, failing the test after a bounded time.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? limit = null)
    {
        DateTime deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met in {(limit ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    public static Task TrueAsync(Func<bool> condition, TimeSpan? limit = null) => TrueAsync(() => Task.FromResult(condition()), limit);
}
