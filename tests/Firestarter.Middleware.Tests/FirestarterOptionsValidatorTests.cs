using Firestarter.ColdStart;
using Firestarter.Matching;
using Microsoft.Extensions.Options;

namespace Firestarter.Tests;

public class FirestarterOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(Action<FirestarterOptions> change)
    {
        var options = new FirestarterOptions();
        change(options);
        return new FirestarterOptionsValidator().Validate(Options.DefaultName, options);
    }

    private static readonly Dictionary<string, (Action<FirestarterOptions> Change, string Key)> Invalid = new()
    {
        ["zero connection timeout"] = (o => { o.ConnectionTimeout = TimeSpan.Zero; }, "Firestarter:ConnectionTimeout"),
        ["negative connection timeout"] = (o => { o.ConnectionTimeout = TimeSpan.FromSeconds(-1); }, "Firestarter:ConnectionTimeout"),
        ["zero keepalive"] = (o => { o.Keepalive = TimeSpan.Zero; o.ConnectionTimeout = TimeSpan.Zero; }, "Firestarter:Keepalive"),
        ["keepalive shorter than connection timeout"] = (o => { o.Keepalive = TimeSpan.FromSeconds(29); }, "Firestarter:Keepalive"),
        ["zero max poll duration"] = (o => { o.MaxPollDuration = TimeSpan.Zero; }, "Firestarter:MaxPollDuration"),
        ["negative max poll duration"] = (o => { o.MaxPollDuration = TimeSpan.FromSeconds(-5); }, "Firestarter:MaxPollDuration"),
        ["unknown selection"] = (o => { o.Selection = (SelectionOrder)7; }, "Firestarter:Selection"),
        ["body size below 1 KiB"] = (o => { o.MaxDispatchBodySize = 1023; }, "Firestarter:MaxDispatchBodySize"),
        ["zero body size"] = (o => { o.MaxDispatchBodySize = 0; }, "Firestarter:MaxDispatchBodySize"),
        ["negative body size"] = (o => { o.MaxDispatchBodySize = -1; }, "Firestarter:MaxDispatchBodySize"),
        ["body size beyond an int"] = (o => { o.MaxDispatchBodySize = int.MaxValue + 1L; }, "Firestarter:MaxDispatchBodySize"),
        ["json depth below 8"] = (o => { o.MaxJsonDepth = 7; }, "Firestarter:MaxJsonDepth"),
        ["json depth above 256"] = (o => { o.MaxJsonDepth = 257; }, "Firestarter:MaxJsonDepth"),
        ["enforcement without a secret"] = (o => { o.Security.DeploymentTokens.Enforcement = Firestarter.Security.TokenEnforcement.Enforce; }, "Firestarter:Security:DeploymentTokens:Secret"),
        ["log mode with a short secret"] = (o => { o.Security.DeploymentTokens.Enforcement = Firestarter.Security.TokenEnforcement.Log; o.Security.DeploymentTokens.Secret = "short"; }, "Firestarter:Security:DeploymentTokens:Secret"),
        ["unknown enforcement"] = (o => { o.Security.DeploymentTokens.Enforcement = (Firestarter.Security.TokenEnforcement)9; }, "Firestarter:Security:DeploymentTokens:Enforcement"),
        ["negative clock skew"] = (o => { o.Security.DeploymentTokens.ClockSkew = TimeSpan.FromSeconds(-1); }, "Firestarter:Security:DeploymentTokens:ClockSkew"),
        ["short dispatch key"] = (o => { o.Security.DispatchApiKeys.Add("short"); }, "Firestarter:Security:DispatchApiKeys:0"),
        ["negative max parked"] = (o => { o.Limits.MaxParked = -1; }, "Firestarter:Limits:MaxParked"),
        ["negative max parked per key"] = (o => { o.Limits.MaxParkedPerKey = -1; }, "Firestarter:Limits:MaxParkedPerKey"),
        ["sub-second retry after"] = (o => { o.Limits.RetryAfter = TimeSpan.FromMilliseconds(500); }, "Firestarter:Limits:RetryAfter"),
        ["negative connect rate"] = (o => { o.RateLimits.Connect.PermitsPerSecond = -1; }, "Firestarter:RateLimits:Connect:PermitsPerSecond"),
        ["negative dispatch rate"] = (o => { o.RateLimits.Dispatch.PermitsPerSecond = -1; }, "Firestarter:RateLimits:Dispatch:PermitsPerSecond"),
        ["guard window as long as the connection timeout"] = (o => { o.PollGuardWindow = o.ConnectionTimeout; }, "Firestarter:PollGuardWindow"),
        ["negative guard window"] = (o => { o.PollGuardWindow = TimeSpan.FromSeconds(-1); }, "Firestarter:PollGuardWindow"),
        ["negative re-poll wait"] = (o => { o.RepollWait = TimeSpan.FromSeconds(-1); }, "Firestarter:RepollWait"),
        ["re-poll wait beyond the connection timeout"] = (o => { o.RepollWait = TimeSpan.FromSeconds(31); }, "Firestarter:RepollWait"),
        ["null confirmation"] = (o => { o.Confirmation = null!; }, "Firestarter:Confirmation"),
        ["zero confirmation timeout"] = (o => { o.Confirmation.Timeout = TimeSpan.Zero; }, "Firestarter:Confirmation:Timeout"),
        ["confirmation timeout over a minute"] = (o => { o.Confirmation.Timeout = TimeSpan.FromSeconds(61); }, "Firestarter:Confirmation:Timeout"),
        ["null cold start"] = (o => { o.ColdStart = null!; }, "Firestarter:ColdStart"),
        ["unknown cold start mode"] = (o => { o.ColdStart.Mode = (ColdStartMode)5; }, "Firestarter:ColdStart:Mode"),
        ["zero cold start timeout"] = (o => { o.ColdStart.Timeout = TimeSpan.Zero; }, "Firestarter:ColdStart:Timeout"),
        ["negative retries"] = (o => { o.ColdStart.MaxRetryAttempts = -1; }, "Firestarter:ColdStart:MaxRetryAttempts"),
        ["too many retries"] = (o => { o.ColdStart.MaxRetryAttempts = 11; }, "Firestarter:ColdStart:MaxRetryAttempts"),
        ["negative retry delay"] = (o => { o.ColdStart.RetryDelay = TimeSpan.FromMilliseconds(-1); }, "Firestarter:ColdStart:RetryDelay"),
        ["zero failure ratio"] = (o => { o.ColdStart.FailureRatio = 0; }, "Firestarter:ColdStart:FailureRatio"),
        ["negative failure ratio"] = (o => { o.ColdStart.FailureRatio = -0.1; }, "Firestarter:ColdStart:FailureRatio"),
        ["failure ratio above one"] = (o => { o.ColdStart.FailureRatio = 1.01; }, "Firestarter:ColdStart:FailureRatio"),
        ["NaN failure ratio"] = (o => { o.ColdStart.FailureRatio = double.NaN; }, "Firestarter:ColdStart:FailureRatio"),
        ["minimum throughput of one"] = (o => { o.ColdStart.MinimumThroughput = 1; }, "Firestarter:ColdStart:MinimumThroughput"),
        ["short sampling duration"] = (o => { o.ColdStart.SamplingDuration = TimeSpan.FromMilliseconds(499); }, "Firestarter:ColdStart:SamplingDuration"),
        ["short break duration"] = (o => { o.ColdStart.BreakDuration = TimeSpan.FromMilliseconds(499); }, "Firestarter:ColdStart:BreakDuration"),
        ["tiny response limit"] = (o => { o.ColdStart.MaxResponseBodySize = 63; }, "Firestarter:ColdStart:MaxResponseBodySize"),
        ["huge response limit"] = (o => { o.ColdStart.MaxResponseBodySize = (16 * 1024 * 1024) + 1; }, "Firestarter:ColdStart:MaxResponseBodySize"),
        ["malformed redis"] = (o => { o.Cluster.Redis = "localhost:6379,nosuchoption=1"; }, "Firestarter:Cluster:Redis"),
        ["relative instance url"] = (o => { o.Cluster.InstanceUrl = "broker-1:8080"; }, "Firestarter:Cluster:InstanceUrl"),
        ["ftp instance url"] = (o => { o.Cluster.InstanceUrl = "ftp://broker-1/"; }, "Firestarter:Cluster:InstanceUrl"),
        ["empty key prefix"] = (o => { o.Cluster.KeyPrefix = ""; }, "Firestarter:Cluster:KeyPrefix"),
        ["short cluster secret"] = (o => { o.Cluster.Secret = "short"; }, "Firestarter:Cluster:Secret"),
        ["zero heartbeat"] = (o => { o.Cluster.HeartbeatInterval = TimeSpan.Zero; }, "Firestarter:Cluster:HeartbeatInterval"),
        ["lease shorter than two heartbeats"] = (o => { o.Cluster.LeaseDuration = TimeSpan.FromSeconds(1.5); }, "Firestarter:Cluster:LeaseDuration"),
        ["zero publish interval"] = (o => { o.Cluster.PublishInterval = TimeSpan.Zero; }, "Firestarter:Cluster:PublishInterval"),
        ["zero lookup timeout"] = (o => { o.Cluster.LookupTimeout = TimeSpan.Zero; }, "Firestarter:Cluster:LookupTimeout"),
        ["zero hand-on timeout"] = (o => { o.Cluster.HandOnTimeout = TimeSpan.Zero; }, "Firestarter:Cluster:HandOnTimeout"),
        ["too many hand-ons"] = (o => { o.Cluster.MaxHandOns = 6; }, "Firestarter:Cluster:MaxHandOns"),
    };

    public static TheoryData<string> InvalidCases => [.. Invalid.Keys];

    private static readonly Dictionary<string, Action<FirestarterOptions>> Valid = new()
    {
        ["keepalive equal to connection timeout"] = o => { o.Keepalive = o.ConnectionTimeout; },
        ["max poll duration shorter than connection timeout"] = o => { o.MaxPollDuration = TimeSpan.FromMilliseconds(1); },
        ["oldest first"] = o => { o.Selection = SelectionOrder.OldestFirst; },
        ["no guard window"] = o => { o.PollGuardWindow = TimeSpan.Zero; },
        ["guard window just under the connection timeout"] = o => { o.PollGuardWindow = o.ConnectionTimeout - TimeSpan.FromTicks(1); },
        ["no re-poll wait"] = o => { o.RepollWait = TimeSpan.Zero; },
        ["confirmation on, one-minute timeout"] = o => { o.Confirmation.Enabled = true; o.Confirmation.Timeout = TimeSpan.FromMinutes(1); },
        ["disabled"] = o => { o.Enabled = false; },
        ["body size of exactly 1 KiB"] = o => { o.MaxDispatchBodySize = 1024; },
        ["body size of int.MaxValue"] = o => { o.MaxDispatchBodySize = int.MaxValue; },
        ["json depth 8"] = o => { o.MaxJsonDepth = 8; },
        ["json depth 256"] = o => { o.MaxJsonDepth = 256; },
        ["forward mode"] = o => { o.ColdStart.Mode = ColdStartMode.Forward; },
        ["no retries"] = o => { o.ColdStart.MaxRetryAttempts = 0; },
        ["ten retries"] = o => { o.ColdStart.MaxRetryAttempts = 10; },
        ["no retry delay"] = o => { o.ColdStart.RetryDelay = TimeSpan.Zero; },
        ["failure ratio one"] = o => { o.ColdStart.FailureRatio = 1; },
        ["small failure ratio"] = o => { o.ColdStart.FailureRatio = 0.01; },
        ["minimum throughput two"] = o => { o.ColdStart.MinimumThroughput = 2; },
        ["sampling duration 500 ms"] = o => { o.ColdStart.SamplingDuration = TimeSpan.FromMilliseconds(500); },
        ["break duration 500 ms"] = o => { o.ColdStart.BreakDuration = TimeSpan.FromMilliseconds(500); },
        ["response limit 64 bytes"] = o => { o.ColdStart.MaxResponseBodySize = 64; },
        ["response limit 16 MiB"] = o => { o.ColdStart.MaxResponseBodySize = 16 * 1024 * 1024; },
        ["a cluster"] = o => { o.Cluster.Redis = "redis:6379,password=secret,ssl=true"; o.Cluster.InstanceUrl = "http://10.0.3.7:8080"; },
        ["a cluster with its own secret and no hand-on"] = o => { o.Cluster.Redis = "127.0.0.1"; o.Cluster.Secret = new string('s', 16); o.Cluster.MaxHandOns = 0; },
    };

    public static TheoryData<string> ValidCases => [.. Valid.Keys];

    [Fact]
    public void The_defaults_are_valid()
    {
        var result = new FirestarterOptionsValidator().Validate(Options.DefaultName, new FirestarterOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void A_bad_value_fails_with_a_message_naming_its_key(string @case)
    {
        var (change, key) = Invalid[@case];

        var result = Validate(change);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!, f => f.StartsWith(key + " ", StringComparison.Ordinal));
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(failure[key.Length..]));
    }

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void A_value_at_or_within_its_bounds_is_accepted(string @case)
    {
        var result = Validate(Valid[@case]);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Keepalive_shorter_than_the_connection_timeout_names_both_keys_and_values()
    {
        var result = Validate(o =>
        {
            o.ConnectionTimeout = TimeSpan.FromSeconds(60);
            o.Keepalive = TimeSpan.FromSeconds(30);
        });

        var failure = Assert.Single(result.Failures!);
        Assert.Equal("Firestarter:Keepalive (00:00:30) must not be shorter than Firestarter:ConnectionTimeout (00:01:00).", failure);
    }

    [Fact]
    public void Every_bad_value_is_reported_not_just_the_first()
    {
        var result = Validate(o =>
        {
            o.ConnectionTimeout = TimeSpan.Zero;
            o.MaxJsonDepth = 1;
            o.ColdStart.FailureRatio = 2;
            o.ColdStart.BreakDuration = TimeSpan.Zero;
        });

        Assert.Equal(4, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Firestarter:ConnectionTimeout", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Firestarter:MaxJsonDepth", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Firestarter:ColdStart:FailureRatio", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Firestarter:ColdStart:BreakDuration", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failure_shows_the_bad_value()
    {
        var result = Validate(o => o.MaxJsonDepth = 300);

        Assert.Equal("Firestarter:MaxJsonDepth must be between 8 and 256 (was 300).", Assert.Single(result.Failures!));
    }

    [Fact]
    public void The_guard_window_is_half_the_connection_timeout_up_to_a_second_and_the_re_poll_wait_twice_it()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), new FirestarterOptions().EffectivePollGuardWindow);
        Assert.Equal(TimeSpan.FromSeconds(2), new FirestarterOptions().EffectiveRepollWait);
        var compressed = new FirestarterOptions { ConnectionTimeout = TimeSpan.FromMilliseconds(200) };
        Assert.Equal(TimeSpan.FromMilliseconds(100), compressed.EffectivePollGuardWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(200), compressed.EffectiveRepollWait);
        var set = new FirestarterOptions { PollGuardWindow = TimeSpan.FromMilliseconds(300), RepollWait = TimeSpan.Zero };
        Assert.Equal(TimeSpan.FromMilliseconds(300), set.EffectivePollGuardWindow);
        Assert.Equal(TimeSpan.Zero, set.EffectiveRepollWait);
    }

    [Fact]
    public void The_effective_poll_limit_is_twice_the_connection_timeout_unless_set()
    {
        var options = new FirestarterOptions { ConnectionTimeout = TimeSpan.FromSeconds(7) };
        Assert.Equal(TimeSpan.FromSeconds(14), options.EffectiveMaxPollDuration);

        options.MaxPollDuration = TimeSpan.FromSeconds(3);
        Assert.Equal(TimeSpan.FromSeconds(3), options.EffectiveMaxPollDuration);
    }

    [Fact]
    public void A_connection_timeout_whose_double_overflows_is_refused()
    {
        var result = Validate(o =>
        {
            o.ConnectionTimeout = TimeSpan.MaxValue;
            o.Keepalive = TimeSpan.MaxValue;
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Firestarter:ConnectionTimeout", StringComparison.Ordinal));
    }
}
