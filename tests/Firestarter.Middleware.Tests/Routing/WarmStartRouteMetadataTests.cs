using Firestarter.Routing;
using Yarp.ReverseProxy.Configuration;

namespace Firestarter.Tests.Routing;

public class WarmStartRouteMetadataTests
{
    private static RouteConfig Route(Dictionary<string, string>? metadata) => new()
    {
        RouteId = "route",
        ClusterId = "cluster",
        Match = new RouteMatch { Path = "/warm-start" },
        Metadata = metadata,
    };

    [Theory]
    [InlineData("Poll", "Poll")]
    [InlineData("poll", "Poll")]
    [InlineData("POLL", "Poll")]
    [InlineData("pOlL", "Poll")]
    [InlineData("Dispatch", "Dispatch")]
    [InlineData("dispatch", "Dispatch")]
    [InlineData("DISPATCH", "Dispatch")]
    [InlineData("Connect", "Connect")]
    [InlineData("connect", "Connect")]
    [InlineData("CONNECT", "Connect")]
    public void Parse_reads_the_role_case_insensitively(string value, string expected)
    {
        Assert.Equal(Enum.Parse<WarmStartRoute>(expected), WarmStartRouteMetadata.Parse(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" Poll")]
    [InlineData("Poll ")]
    [InlineData("Polls")]
    [InlineData("Pol")]
    [InlineData("None")]
    [InlineData("warm-start")]
    [InlineData("1")]
    public void Parse_gives_none_for_anything_else(string? value)
    {
        Assert.Equal(WarmStartRoute.None, WarmStartRouteMetadata.Parse(value));
    }

    [Fact]
    public void A_route_without_metadata_is_not_a_warm_start_route()
    {
        Assert.Equal(WarmStartRoute.None, WarmStartRouteMetadata.Of(Route(null)));
    }

    [Fact]
    public void A_route_whose_metadata_lacks_the_key_is_not_a_warm_start_route()
    {
        Assert.Equal(WarmStartRoute.None, WarmStartRouteMetadata.Of(Route(new() { ["Other"] = "Poll" })));
    }

    [Theory]
    [InlineData("poll", "Poll")]
    [InlineData("Dispatch", "Dispatch")]
    [InlineData("connect", "Connect")]
    public void A_route_with_the_key_has_the_role_it_names(string value, string expected)
    {
        var route = Route(new() { ["Other"] = "x", [WarmStartRouteMetadata.Key] = value });

        Assert.Equal(Enum.Parse<WarmStartRoute>(expected), WarmStartRouteMetadata.Of(route));
    }

    [Fact]
    public void The_metadata_key_is_Firestarter()
    {
        Assert.Equal("Firestarter", WarmStartRouteMetadata.Key);
    }
}
