using System.Text.RegularExpressions;
using Firestarter.IntegrationTests.Infrastructure;
using Firestarter.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.BrowserTests;

/// <summary>
/// The live status page in a real headless Chromium against the real host: controllers parked and runs dispatched
/// show up on the page, on a desktop and on a phone-width screen. Screenshots are saved beside the test assembly
/// (<c>artifacts/</c>) and their paths written to the test output.
/// </summary>
public sealed partial class StatusPageTests(ITestOutputHelper output)
{
    /// <summary>Debian's Chromium, which CI installs (<c>apt-get install chromium chromium-driver</c>); overridable for other systems.</summary>
    private static readonly string ChromiumPath = Environment.GetEnvironmentVariable("FIRESTARTER_CHROMIUM") ?? "/usr/bin/chromium";

    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 5000 };

    /// <summary>
    /// On a fresh Debian machine with only the .NET SDK, installs Debian's Chromium once, so that `dotnet test`
    /// works there as the README says (.ci/run installs it beforehand, so this is a no-op in CI).
    /// </summary>
    private async Task EnsureChromiumAsync()
    {
        if (File.Exists(ChromiumPath) || Environment.GetEnvironmentVariable("FIRESTARTER_CHROMIUM") is not null || !File.Exists("/usr/bin/apt-get"))
        {
            return;
        }

        var root = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        var script = "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq chromium chromium-driver";
        var start = new System.Diagnostics.ProcessStartInfo(root ? "/bin/sh" : "sudo")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string[] arguments = root ? ["-c", script] : ["-n", "/bin/sh", "-c", script];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var install = System.Diagnostics.Process.Start(start)!;
        var stderr = install.StandardError.ReadToEndAsync();
        await install.StandardOutput.ReadToEndAsync();
        await install.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        output.WriteLine($"Installed Debian's chromium (exit {install.ExitCode}). {await stderr}");
    }

    [Fact]
    public async Task Page_shows_parked_controllers_per_deployment_hit_rate_warm_and_cold_dispatches_and_latency_live()
    {
        await EnsureChromiumAsync();
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium is missing at {ChromiumPath}: install Debian's chromium package (apt-get install -y chromium chromium-driver), as .ci/run does, " +
            "or set FIRESTARTER_CHROMIUM to a Chromium binary.");

        await using var broker = new BrokerFactory();
        var address = broker.Start();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = address };
        var alpha = new Key("deploy_alpha", "20261126.1", "0.5", "1");
        var beta = new Key("deploy_beta", "20261126.1", "1", "2");
        var polls = new List<Task<HttpResponseMessage>>();
        polls.AddRange(Enumerable.Range(0, 3).Select(i => client.SendAsync(Poll(alpha, $"alpha_{i}"))));
        polls.Add(client.SendAsync(Poll(beta, "beta_0")));
        var pool = broker.Services.GetRequiredService<WarmPool>();
        await EventuallyAsync(() => pool.ParkedCount == 4, "four controllers are parked");
        Assert.True(await DispatchAsync(client, alpha, "run_warm_1"));
        Assert.False(await DispatchAsync(client, new Key("deploy_nobody", "1", "1", "1"), "run_cold_1"));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(new Uri(address, "/firestarter").ToString());
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#state")).ToHaveTextAsync("serving", Soon);
        await Assertions.Expect(page.Locator("#parked-total")).ToHaveTextAsync("3", Soon);
        await Assertions.Expect(page.Locator("#hit-rate")).ToHaveTextAsync("50.0%", Soon);
        await Assertions.Expect(page.Locator("#warm-15m")).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(page.Locator("#cold-15m")).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(page.Locator("#confirmation-rate")).ToHaveTextAsync("off", Soon);
        await Assertions.Expect(page.Locator("#p50")).ToHaveTextAsync(Latency(), Soon);
        await Assertions.Expect(page.Locator("#p99")).ToHaveTextAsync(Latency(), Soon);
        await Assertions.Expect(page.Locator(".bar[data-deployment='deploy_alpha'] .count")).ToHaveTextAsync("2", Soon);
        await Assertions.Expect(page.Locator(".bar[data-deployment='deploy_beta'] .count")).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(page.Locator("#chart rect.warm")).ToHaveCountAsync(1, new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#chart rect.cold")).ToHaveCountAsync(1, new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#cluster")).ToBeHiddenAsync();

        // Live: more traffic shows up without reloading.
        Assert.True(await DispatchAsync(client, beta, "run_warm_2"));
        Assert.True(await DispatchAsync(client, alpha, "run_warm_3"));
        await Assertions.Expect(page.Locator("#parked-total")).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(page.Locator("#hit-rate")).ToHaveTextAsync("75.0%", Soon);
        await Assertions.Expect(page.Locator("#warm-15m")).ToHaveTextAsync("3", Soon);
        await Assertions.Expect(page.Locator(".bar[data-deployment='deploy_beta']")).ToHaveCountAsync(0, new() { Timeout = 5000 });
        await SaveScreenshotAsync(page, "status-page-desktop.png");

        // Phone width: everything still shows, nothing scrolls sideways.
        await page.SetViewportSizeAsync(390, 844);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#parked-total")).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(page.Locator(".bar[data-deployment='deploy_alpha'] .count")).ToHaveTextAsync("1", Soon);
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth");
        Assert.False(overflow, "the page scrolls sideways at 390 px");
        Assert.True(await page.Locator("#chart").IsVisibleAsync());
        await SaveScreenshotAsync(page, "status-page-phone.png");

        Assert.True(errors.Count == 0, "the page logged errors: " + string.Join("; ", errors));
        Assert.True(await DispatchAsync(client, alpha, "run_warm_4"));
        await Task.WhenAll(polls);
    }

    [Fact]
    public async Task Page_shows_the_cluster_each_instance_with_its_parked_count_and_the_dispatches_handed_on_to_it()
    {
        await EnsureChromiumAsync();
        Assert.True(File.Exists(ChromiumPath), $"Chromium is missing at {ChromiumPath} (see the test above).");
        await using var cluster = await BrokerCluster.StartAsync(2);
        using var a = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var key = new Key("deploy_clustered", "20261126.1", "1", "2");
        var polls = Enumerable.Range(0, 2).Select(i => a.SendAsync(Poll(key, $"clustered_{i}"))).ToList();
        var pool = cluster.Brokers[0].Services.GetRequiredService<WarmPool>();
        await EventuallyAsync(() => pool.ParkedCount == 2, "two controllers are parked on the first instance");
        await cluster.WaitUntilPublishedAsync();
        Assert.True(await DispatchAsync(b, key, "run_handed_on"));
        var first = cluster.Brokers[0].Services.GetRequiredService<Firestarter.Cluster.ClusterFeature>().Connection!.InstanceId;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(b.BaseAddress!, "/firestarter").ToString());

        // The second instance's page: both instances, the first with its one remaining controller and the run handed on to it.
        await Assertions.Expect(page.Locator("#cluster")).ToBeVisibleAsync(new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#cluster-state")).ToContainTextAsync("Redis connected", new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#cluster-instances tr")).ToHaveCountAsync(2, new() { Timeout = 5000 });
        var row = page.Locator($"#cluster-instances tr[data-instance='{first}'] td");
        await Assertions.Expect(row.Nth(1)).ToHaveTextAsync("1", Soon);
        await Assertions.Expect(row.Nth(2)).ToHaveTextAsync("1 / 0 / 0", Soon);
        await SaveScreenshotAsync(page, "status-page-cluster.png");
        Assert.True(errors.Count == 0, "the page logged errors: " + string.Join("; ", errors));

        Assert.True(await DispatchAsync(a, key, "run_local"));
        await Task.WhenAll(polls);
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = ChromiumPath,
        Headless = true,
        // Root in CI containers cannot use Chromium's sandbox.
        Args = ["--no-sandbox"],
        Timeout = 30_000,
    });

    private async Task SaveScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }

    /// <summary>A latency as the page prints it, e.g. "0.42 ms" or "12 ms".</summary>
    [GeneratedRegex(@"^\d+(\.\d+)? (ms|s)$")]
    private static partial Regex Latency();
}
