using System.Net;
using NodeDns.Dnstap;

namespace NodeDns.Core.Tests.Dnstap;

public sealed class DnstapQueueTests
{
    private static readonly DnstapPeer Client = DnstapPeer.From(IPEndPoint.Parse("10.0.0.7:40000"));
    private static readonly DnstapPeer Server = DnstapPeer.From(IPEndPoint.Parse("169.254.20.10:53"));

    private static bool Enqueue(DnstapQueue queue, byte[] message) =>
        queue.TryEnqueue(DnstapMessageTypes.ClientQuery, overTcp: false, Client, Server, message, unixTicks: 1);

    [Fact]
    public void Messages_come_out_in_order_and_a_full_queue_drops_and_counts()
    {
        var queue = new DnstapQueue(4);
        for (byte i = 0; i < 6; i++)
        {
            Assert.Equal(i < 4, Enqueue(queue, [i, i]));
        }

        Assert.Equal(2, queue.Dropped);
        for (byte i = 0; i < 4; i++)
        {
            DnstapEntry entry = queue.Peek()!;
            Assert.Equal([i, i], entry.Message.ToArray());
            queue.Release(entry);
        }

        Assert.Null(queue.Peek());
        Assert.True(Enqueue(queue, [9])); // the slots are free again
    }

    [Fact]
    public void Large_messages_are_kept_whole_within_their_byte_budget()
    {
        var queue = new DnstapQueue(1024);
        byte[] large = new byte[60_000];
        Random.Shared.NextBytes(large);
        int accepted = 0;
        while (Enqueue(queue, large))
        {
            accepted++;
        }

        Assert.Equal(DnstapQueue.OversizeBudget / large.Length, accepted);
        Assert.True(Enqueue(queue, new byte[100])); // small messages still fit in their slots
        DnstapEntry first = queue.Peek()!;
        Assert.Equal(large, first.Message.ToArray());
        queue.Release(first);
        Assert.True(Enqueue(queue, large)); // released bytes return to the budget
    }

    [Fact]
    public async Task Concurrent_writers_lose_nothing_while_there_is_room_and_keep_their_own_order()
    {
        const int Writers = 4;
        const int PerWriter = 20_000;
        var queue = new DnstapQueue(256);
        int[] next = new int[Writers];
        long received = 0;
        var reader = Task.Run(() =>
        {
            while (Interlocked.Read(ref received) < Writers * PerWriter)
            {
                if (queue.Peek() is not { } entry)
                {
                    Thread.Yield();
                    continue;
                }

                int writer = entry.Message[0];
                int sequence = BitConverter.ToInt32(entry.Message[1..]);
                Assert.Equal(next[writer]++, sequence);
                queue.Release(entry);
                received++;
            }
        });
        Parallel.For(0, Writers, writer =>
        {
            byte[] message = new byte[5];
            message[0] = (byte)writer;
            for (int i = 0; i < PerWriter; i++)
            {
                BitConverter.TryWriteBytes(message.AsSpan(1), i);
                while (!Enqueue(queue, message))
                {
                    Thread.Yield(); // full: a real writer drops; here it retries so that every message can be checked
                }
            }
        });

        await reader.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.All(next, n => Assert.Equal(PerWriter, n));
    }
}
