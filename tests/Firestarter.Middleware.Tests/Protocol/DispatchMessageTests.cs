using Firestarter.Matching;
using Firestarter.Protocol;

namespace Firestarter.Tests.Protocol;

public class DispatchMessageTests
{
    private static readonly MatchKey Key = new("d", "v", 1, 1);

    [Fact]
    public void RunIdText_decodes_the_bytes_in_the_run_id_range()
    {
        var body = "xx\"run_é\"yy"u8.ToArray();
        var message = new DispatchMessage(Key, 0..body.Length, 3..(body.Length - 3));

        Assert.Equal("run_é", message.RunIdText(body));
    }

    [Fact]
    public void RunIdText_is_none_for_an_empty_range()
    {
        var message = new DispatchMessage(Key, 0..2, default);

        Assert.Equal("(none)", message.RunIdText("{}"u8));
    }

    [Fact]
    public void The_constructor_keeps_its_values()
    {
        var message = new DispatchMessage(Key, 3..9, 4..6);

        Assert.Equal(Key, message.Key);
        Assert.Equal(3..9, message.Message);
        Assert.Equal(4..6, message.RunId);
    }
}
