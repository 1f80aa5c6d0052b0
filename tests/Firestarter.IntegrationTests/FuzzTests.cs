using System.Net;
using System.Text;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>
/// Thousands of random and mutated dispatch bodies and poll header sets: every answer is 2xx or 4xx, and a parked
/// controller is undisturbed and still gets its run.
/// </summary>
public sealed class FuzzTests
{
    private const int Requests = 3000;
    private const int Workers = 16;

    private static readonly string[] PollHeaders =
    [
        "x-trigger-deployment-id", "x-trigger-deployment-version", "x-trigger-machine-cpu", "x-trigger-machine-memory",
        "x-trigger-workload-controller-id", "x-trigger-worker-instance-name",
    ];

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "-0", "1e309", "NaN", "\\u0000", "\\ud800", "\"dequeuedMessage\"",
        "\"deployment\"", "\"friendlyId\"", "\"run\"", "\"machine\"", "\"cpu\"", "\"memory\"", "\"backgroundWorker\"",
        "\"version\"", "0.5", "1", "\u00e9", "\ufeff", " ", "\t", "//", "/*",
    ];

    [Fact]
    public async Task Random_and_mutated_requests_get_only_2xx_or_4xx_and_leave_the_pool_undisturbed()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Firestarter:MaxJsonDepth"] = "16" });
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = broker.Start() };
        var control = Key.Default with { Deployment = $"deployment_control_{Guid.NewGuid():N}" };
        var controlPoll = client.SendAsync(Poll(control, "control"));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the control poll is parked");

        var fuzzKey = Key.Default with { Deployment = "deployment_fuzz" };
        var seed = Message(fuzzKey, "run_seed");
        var statuses = new int[600];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            int i;
            while ((i = Interlocked.Increment(ref next)) < Requests)
            {
                var status = i % 3 == 0
                    ? await FuzzPollAsync(client, random, fuzzKey)
                    : await FuzzDispatchAsync(client, random, seed);
                Interlocked.Increment(ref statuses[status]);
            }
        })));

        var seen = string.Join(", ", statuses.Select((count, status) => (count, status)).Where(s => s.count > 0).Select(s => $"{s.status}: {s.count}"));
        Assert.True(statuses.Skip(500).All(count => count == 0), $"a 5xx answer: {seen}\n{string.Join('\n', ServerErrors.Take(3))}");
        Assert.True(statuses.Skip(400).Take(100).Sum() > Requests / 2, $"most fuzz is refused: {seen}");

        // Fuzz polls that happened to be valid parked and were abandoned; only the control poll remains.
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "only the control poll is parked");
        Assert.False(controlPoll.IsCompleted);
        Assert.True(await DispatchAsync(client, control, "run_control"));
        using var response = await controlPoll;
        Assert.Equal("run_control", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    private static async Task<int> FuzzDispatchAsync(HttpClient client, Random random, string seed)
    {
        var body = random.Next(4) switch
        {
            0 => RandomBytes(random),
            1 => Encoding.UTF8.GetBytes(RandomJsonish(random)),
            2 => Encoding.UTF8.GetBytes(DispatchBody(Mutate(random, seed))),
            _ => Encoding.UTF8.GetBytes(Nest(random, seed)),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/warm-start") { Content = new ByteArrayContent(body) };
        if (random.Next(2) == 0)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", random.Next(2) == 0 ? "application/json" : RandomText(random, 20));
        }

        if (random.Next(4) == 0)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        AddRandomHeaders(random, request);
        return await SendAsync(client, request);
    }

    private static async Task<int> FuzzPollAsync(HttpClient client, Random random, Key key)
    {
        using var request = Poll(key, "fuzz");
        foreach (var name in PollHeaders)
        {
            switch (random.Next(5))
            {
                case 0:
                    request.Headers.Remove(name);
                    break;
                case 1:
                    request.Headers.Remove(name);
                    request.Headers.TryAddWithoutValidation(name, RandomText(random, 40));
                    break;
                case 2:
                    request.Headers.TryAddWithoutValidation(name, RandomText(random, 10));
                    break;
                case 3 when name == "x-trigger-deployment-id":
                    request.Headers.Remove(name);
                    request.Headers.TryAddWithoutValidation(name, $"{RandomText(random, 20, '.')}.{RandomText(random, 60)}.{RandomText(random, 20)}");
                    break;
            }
        }

        AddRandomHeaders(random, request);
        // A poll that happens to be valid parks; it is abandoned after a moment.
        return await SendAsync(client, request, TimeSpan.FromMilliseconds(200), StatusCodes.Parked);
    }

    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> ServerErrors = new();

    private static async Task<int> SendAsync(HttpClient client, HttpRequestMessage request, TimeSpan? patience = null, int timedOut = 0)
    {
        using var cancel = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(10));
        try
        {
            var sent = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancel.Token);
            using var response = await client.SendAsync(request, cancel.Token);
            var answer = await response.Content.ReadAsStringAsync(cancel.Token);
            if ((int)response.StatusCode >= 500)
            {
                // Kept for the failure message: what was sent, and what came back.
                ServerErrors.Enqueue($"{request.Method} {request.Headers} body [{sent}] -> {(int)response.StatusCode} {answer}");
            }

            return (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (patience is not null)
        {
            return timedOut;
        }
    }

    private static class StatusCodes
    {
        /// <summary>Counted in the unused 2xx slot 299: a fuzz poll that parked.</summary>
        public const int Parked = 299;
    }

    private static void AddRandomHeaders(Random random, HttpRequestMessage request)
    {
        for (var n = random.Next(4); n > 0; n--)
        {
            var name = random.Next(3) == 0 ? "Authorization" : "x-" + RandomText(random, 12, '-');
            request.Headers.TryAddWithoutValidation(name, RandomText(random, random.Next(2) == 0 ? 30 : 2000));
        }
    }

    private static string Mutate(Random random, string text)
    {
        var builder = new StringBuilder(text);
        for (var n = 1 + random.Next(6); n > 0 && builder.Length > 0; n--)
        {
            var at = random.Next(builder.Length);
            switch (random.Next(4))
            {
                case 0:
                    builder.Remove(at, Math.Min(builder.Length - at, 1 + random.Next(20)));
                    break;
                case 1:
                    builder.Insert(at, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 2:
                    builder[at] = (char)random.Next(0x20, 0x7f);
                    break;
                default:
                    builder.Length = at;
                    break;
            }
        }

        return builder.ToString();
    }

    private static string Nest(Random random, string message)
    {
        var depth = random.Next(1, 40);
        return DispatchBody(message.Replace("\"traceContext\":{}", $"\"traceContext\":{new string('[', depth)}{new string(']', depth)}", StringComparison.Ordinal));
    }

    private static string RandomJsonish(Random random)
    {
        var builder = new StringBuilder();
        for (var n = random.Next(60); n > 0; n--)
        {
            builder.Append(Fragments[random.Next(Fragments.Length)]);
        }

        return builder.ToString();
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 4096)];
        random.NextBytes(bytes);
        return bytes;
    }

    // Printable ASCII only: the HTTP client refuses control characters in headers before they reach the wire.
    private static string RandomText(Random random, int maxLength, char extra = ' ')
    {
        var chars = new char[random.Next(1, maxLength + 1)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = random.Next(10) == 0 ? extra : (char)random.Next(0x21, 0x7f);
        }

        return new string(chars);
    }
}
