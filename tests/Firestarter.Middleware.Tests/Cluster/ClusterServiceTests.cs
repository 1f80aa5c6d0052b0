using Firestarter.Cluster;

namespace Firestarter.Tests.Cluster;

public class ClusterServiceTests
{
    [Theory]
    [InlineData(null, "http://127.0.0.1:5123", "http://127.0.0.1:5123/")]
    [InlineData(null, "http://0.0.0.0:8080", "http://broker-7:8080/")]
    [InlineData(null, "http://[::]:8080", "http://broker-7:8080/")]
    [InlineData(null, "http://+:8080", "http://broker-7:8080/")]
    [InlineData(null, "https://*:8443", "https://broker-7:8443/")]
    [InlineData("http://10.0.3.7:8080", "http://0.0.0.0:8080", "http://10.0.3.7:8080/")]
    public void The_instance_url_is_the_configured_one_else_the_first_listen_address_with_a_wildcard_host_named(
        string? configured, string listening, string expected)
    {
        Assert.Equal(new Uri(expected), ClusterService.ResolveInstanceUrl(configured, [listening, "http://127.0.0.1:9999"], "broker-7"));
    }

    [Fact]
    public void Without_an_address_there_is_no_instance_url() =>
        Assert.Null(ClusterService.ResolveInstanceUrl(null, [], "broker-7"));
}
