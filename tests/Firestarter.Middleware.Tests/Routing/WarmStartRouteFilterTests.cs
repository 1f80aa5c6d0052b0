using Firestarter.Routing;
using Yarp.ReverseProxy.Configuration;

namespace Firestarter.Tests.Routing;

public class WarmStartRouteFilterTests
{
    private static readonly WarmStartRouteFilter Filter = new();

    private static RouteConfig Route(string? role, string id = "warm-start-poll") => new()
    {
        RouteId = id,
        ClusterId = "supervisor",
        Order = 3,
        Match = new RouteMatch { Path = "/warm-start", Methods = ["GET"] },
        Metadata = role is null ? null : new Dictionary<string, string> { ["Firestarter"] = role, ["Team"] = "infra" },
    };

    private static async Task<RouteConfig> Configure(RouteConfig route) =>
        await Filter.ConfigureRouteAsync(route, cluster: null, CancellationToken.None);

    [Fact]
    public async Task A_confirm_route_must_capture_the_run_and_the_snapshot()
    {
        var missing = Route("Confirm", id: "confirm") with { Match = new RouteMatch { Path = "/api/v1/workload-actions/runs/{run}/attempts/start" } };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Configure(missing));
        Assert.Contains("ReverseProxy:Routes:confirm:Match:Path", error.Message, StringComparison.Ordinal);
        Assert.Contains("{runFriendlyId} and {snapshotFriendlyId}", error.Message, StringComparison.Ordinal);

        var shipped = Route("Confirm", id: "confirm") with
        {
            Match = new RouteMatch { Path = "/api/v1/workload-actions/runs/{runFriendlyId}/snapshots/{snapshotFriendlyId}/attempts/start", Methods = ["POST"] },
        };
        Assert.Same(shipped, await Configure(shipped));
    }

    [Fact]
    public async Task A_route_without_metadata_is_returned_untouched()
    {
        var route = Route(null);

        Assert.Same(route, await Configure(route));
    }

    [Fact]
    public async Task A_route_whose_metadata_lacks_the_key_is_returned_untouched()
    {
        var route = Route(null) with { Metadata = new Dictionary<string, string> { ["Team"] = "infra" } };

        Assert.Same(route, await Configure(route));
    }

    [Theory]
    [InlineData("Pol")]
    [InlineData("")]
    [InlineData("none")]
    [InlineData("Poll,Dispatch")]
    public async Task An_unknown_role_is_refused_with_a_message_naming_the_route_the_key_and_the_value(string role)
    {
        var route = Route(role, id: "my-route");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Configure(route));

        Assert.Contains("'my-route'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ReverseProxy:Routes:my-route:Metadata:Firestarter", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{role}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Connect, Poll, Dispatch or Confirm", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Poll")]
    [InlineData("poll")]
    public async Task A_poll_route_gets_the_disable_timeout_policy_and_keeps_everything_else(string role)
    {
        var route = Route(role);

        var configured = await Configure(route);

        Assert.Equal("Disable", configured.TimeoutPolicy);
        Assert.Null(configured.Timeout);
        Assert.Equal(route with { TimeoutPolicy = "Disable" }, configured);
        Assert.Equal(route.RouteId, configured.RouteId);
        Assert.Equal(route.ClusterId, configured.ClusterId);
        Assert.Equal(route.Order, configured.Order);
        Assert.Same(route.Match, configured.Match);
        Assert.Same(route.Metadata, configured.Metadata);
    }

    [Fact]
    public async Task A_poll_route_with_its_own_timeout_is_left_alone()
    {
        var route = Route("Poll") with { Timeout = TimeSpan.FromMinutes(10) };

        var configured = await Configure(route);

        Assert.Same(route, configured);
        Assert.Null(configured.TimeoutPolicy);
        Assert.Equal(TimeSpan.FromMinutes(10), configured.Timeout);
    }

    [Fact]
    public async Task A_poll_route_with_its_own_timeout_policy_is_left_alone()
    {
        var route = Route("Poll") with { TimeoutPolicy = "LongPolls" };

        var configured = await Configure(route);

        Assert.Same(route, configured);
        Assert.Equal("LongPolls", configured.TimeoutPolicy);
    }

    [Fact]
    public async Task A_poll_route_with_an_empty_timeout_policy_gets_the_disable_policy()
    {
        var route = Route("Poll") with { TimeoutPolicy = "" };

        Assert.Equal("Disable", (await Configure(route)).TimeoutPolicy);
    }

    [Theory]
    [InlineData("Dispatch")]
    [InlineData("Connect")]
    [InlineData("connect")]
    public async Task Other_warm_start_routes_are_returned_untouched(string role)
    {
        var route = Route(role);

        var configured = await Configure(route);

        Assert.Same(route, configured);
        Assert.Null(configured.TimeoutPolicy);
    }

    [Fact]
    public async Task Clusters_are_returned_untouched()
    {
        var cluster = new ClusterConfig { ClusterId = "supervisor" };

        Assert.Same(cluster, await Filter.ConfigureClusterAsync(cluster, CancellationToken.None));
    }
}
